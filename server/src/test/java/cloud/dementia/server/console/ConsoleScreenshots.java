package cloud.dementia.server.console;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;

/**
 * Takes the console screenshots in docs/ of every console page against a server with a few busy pools: one busy in bursts,
 * one saturated with callers waiting, one leaking, one suspended, a few idle, some with a size of their own (one of
 * them retired and back), and the physical pool just reconnected. Runs only when asked:
 * {@code DEMENTIA_SCREENSHOTS=$PWD/docs mvn -B test -pl db,admin-ui,server -Dtest=ConsoleScreenshots -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ConsoleScreenshots {

    @Test
    void everyPageWithBusyPools() throws Exception {
        String dir = System.getenv("DEMENTIA_SCREENSHOTS");
        Assumptions.assumeTrue(dir != null && !dir.isBlank(), "set DEMENTIA_SCREENSHOTS to a directory to take the console screenshots");
        Path out = Path.of(dir);
        try (ConsoleServer s = new ConsoleServer(Map.of("DB_LEAK_THRESHOLD_MS", "4000", "DB_POOL_ACQUIRE_TIMEOUT_MS", "1500"));
             Browser browser = Browser.start(1440, 1000)) {
            // a quiet start, so the charts show the load arriving: billing busy in bursts, orders filling up to saturation
            s.openConnections("proj_billing", 3);
            s.openConnections("proj_archive", 1);
            s.use("proj_docs");
            s.use("proj_trial");
            s.use("proj_orders");
            s.use("proj_ledger");
            s.apiJson("POST", "/pools/proj_orders/resize", "{\"max\": 3}");
            AtomicBoolean stop = new AtomicBoolean();
            Thread bursts = Thread.ofVirtual().start(() -> {
                Random random = new Random(7);
                while (!stop.get()) {
                    int n = 1 + random.nextInt(3);
                    List<Thread> burst = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        burst.add(Thread.ofVirtual().start(() -> {
                            try {
                                s.registry().inTransaction("proj_billing", tx -> {
                                    tx.queryOne("SELECT 1 FROM pg_sleep(" + (1 + random.nextInt(4)) + ")", r -> r.integer(1));
                                    return null;
                                });
                            } catch (RuntimeException ignored) {
                                // the demo goes on
                            }
                        }));
                    }
                    burst.forEach(t -> {
                        try {
                            t.join();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    ConsoleServer.sleep(1000 + random.nextInt(4000));
                }
            });
            try {
                ConsoleServer.sleep(25_000);
                s.hold("proj_search");
                s.hold("proj_orders");
                ConsoleServer.sleep(20_000);
                s.hold("proj_orders");
                ConsoleServer.sleep(20_000);
                s.hold("proj_orders");
                s.waiters("proj_orders", 3);
                s.apiJson("POST", "/pools/proj_docs/suspend", null);
                s.apiJson("POST", "/cleanup/settings", "{\"intervalSeconds\": 300, \"idleMaxSeconds\": 60}");
                s.apiJson("POST", "/cleanup/run", null);
                s.apiJson("POST", "/cleanup/settings", "{\"intervalSeconds\": 300, \"idleMaxSeconds\": 600}");
                s.apiJson("POST", "/pools/proj_billing/drain", null);
                s.apiJson("POST", "/pools/proj_billing/resize", "{\"max\": 6}");
                // a size of its own outlives a retire: the ledger's next pool has it again
                s.use("proj_ledger");
                s.apiJson("POST", "/pools/proj_ledger/resize", "{\"max\": 2}");
                s.apiJson("POST", "/pools/proj_ledger/retire", null);
                s.use("proj_ledger");
                s.use("proj_trial");
                ConsoleServer.sleep(15_000);
                s.apiJson("POST", "/physical/reconnect", null);
                ConsoleServer.sleep(15_000);
                takeScreenshots(s, browser, out);
            } finally {
                stop.set(true);
                bursts.join(10_000);
            }
        }
    }

    private static void takeScreenshots(ConsoleServer s, Browser browser, Path out) {
        WebDriver driver = browser.driver();
        driver.manage().window().setSize(new Dimension(560, 640));
        driver.get(s.url("/admin/login"));
        browser.screenshot(out.resolve("console-login.png"));

        driver.findElement(By.id("user")).sendKeys(ConsoleServer.USER);
        driver.findElement(By.id("password")).sendKeys(ConsoleServer.PASSWORD);
        driver.findElement(By.cssSelector("#login-form button")).click();
        driver.manage().window().setSize(new Dimension(1440, 1180));
        ConsoleServer.sleep(3500);
        browser.screenshot(out.resolve("console-pools.png"));

        driver.manage().window().setSize(new Dimension(1440, 1960));
        driver.get(s.url("/admin/pools/proj_orders"));
        ConsoleServer.sleep(3500);
        browser.screenshot(out.resolve("console-pool.png"));

        driver.manage().window().setSize(new Dimension(1440, 1700));
        driver.get(s.url("/admin/pools/proj_search"));
        ConsoleServer.sleep(3000);
        driver.findElement(By.cssSelector("details.leak summary")).click();
        browser.screenshot(out.resolve("console-pool-leak.png"));

        driver.manage().window().setSize(new Dimension(1440, 1680));
        driver.get(s.url("/admin/physical"));
        ConsoleServer.sleep(3500);
        browser.screenshot(out.resolve("console-physical.png"));

        driver.manage().window().setSize(new Dimension(1440, 760));
        driver.get(s.url("/admin/cleanup"));
        ConsoleServer.sleep(1500);
        browser.screenshot(out.resolve("console-cleanup.png"));

        driver.get(s.url("/admin/audit"));
        browser.screenshot(out.resolve("console-audit.png"));
    }
}
