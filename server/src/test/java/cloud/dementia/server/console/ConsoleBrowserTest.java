package cloud.dementia.server.console;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolSuspendedException;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (headless Chromium), the way an operator uses it: sign in, read the pools, act on one,
 * and see the effect. A failing test leaves a screenshot in {@code server/target/browser-failures/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(ScreenshotOnFailure.class)
class ConsoleBrowserTest implements ScreenshotOnFailure.HasBrowser {

    ConsoleServer s;
    Browser browser;
    WebDriver driver;

    @Override
    public Browser browser() {
        return browser;
    }

    @BeforeAll
    void start() {
        browser = Browser.start(1400, 1000);
        driver = browser.driver();
        s = new ConsoleServer();
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (s != null) {
            s.close();
        }
    }

    @BeforeEach
    void signedIn() {
        driver.get(s.url("/admin"));
        if (driver.getCurrentUrl().contains("/admin/login")) {
            signIn();
        }
    }

    void signIn() {
        driver.findElement(By.id("user")).clear();
        driver.findElement(By.id("user")).sendKeys(ConsoleServer.USER);
        driver.findElement(By.id("password")).sendKeys(ConsoleServer.PASSWORD);
        driver.findElement(By.cssSelector("#login-form button[type=submit]")).click();
    }

    WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(driver, Duration.ofSeconds(seconds));
    }

    /** The text of an element, waiting for it: a click that submits a form returns before the next page is there. */
    String text(String id) {
        return waitUpTo(5).until(ExpectedConditions.presenceOfElementLocated(By.id(id))).getText();
    }

    String notice() {
        return waitUpTo(5).until(ExpectedConditions.visibilityOfElementLocated(By.id("notice"))).getText();
    }

    WebElement row(String schema) {
        return driver.findElement(By.cssSelector("#pool-rows tr[data-schema='" + schema + "']"));
    }

    /** Opens a destructive action's confirmation and confirms it. */
    void confirm(String action) {
        WebElement details = driver.findElement(By.id(action + "-confirm"));
        assertFalse(driver.findElement(By.id(action + "-button")).isDisplayed(), "hidden until the operator asks for it");
        details.findElement(By.tagName("summary")).click();
        waitUpTo(5).until(ExpectedConditions.elementToBeClickable(By.id(action + "-button"))).click();
    }

    @Test
    void aRequestWithoutLoginIsSentToTheLoginPageAndBackAfterSigningIn() {
        s.use("login_target");
        driver.manage().deleteAllCookies();
        driver.get(s.url("/admin/pools/login_target"));
        assertThat(driver.getCurrentUrl(), containsString("/admin/login?next=%2Fadmin%2Fpools%2Flogin_target"));
        driver.findElement(By.id("user")).sendKeys(ConsoleServer.USER);
        driver.findElement(By.id("password")).sendKeys("not-the-password");
        driver.findElement(By.cssSelector("#login-form button[type=submit]")).click();
        assertEquals("Wrong user or password.", text("login-message"));
        driver.findElement(By.id("password")).sendKeys(ConsoleServer.PASSWORD);
        driver.findElement(By.cssSelector("#login-form button[type=submit]")).click();
        waitUpTo(5).until(ExpectedConditions.urlContains("/admin/pools/login_target"));
        assertEquals("login_target", driver.findElement(By.cssSelector(".pool-head h1 span")).getText());
    }

    @Test
    void thePoolsTableShowsEveryPoolWithTheSaturatedOneFirstAndRefreshesItself() throws Exception {
        s.use("quiet");
        s.use("busy");
        s.registry().resize("busy", 2, 0);
        s.hold("busy");
        s.hold("busy");
        s.waiters("busy", 2);
        ConsoleServer.eventually("callers wait on busy", () -> s.registry().currentStats("busy").orElseThrow().waiting() > 0);
        driver.get(s.url("/admin"));
        waitUpTo(5).until(d -> row("busy").getAttribute("class").contains("level-crit"));
        List<WebElement> rows = driver.findElements(By.cssSelector("#pool-rows tr"));
        assertEquals("busy", rows.get(0).getAttribute("data-schema"), "the saturated pool comes first");
        assertEquals("SATURATED", row("busy").findElement(By.cssSelector(".badge")).getText());
        assertThat(row("busy").findElement(By.cssSelector(".why")).getText(), startsWith("saturated: all 2 connections in use and 2 callers waiting"));
        List<String> schemas = rows.stream().map(r -> r.getAttribute("data-schema")).toList();
        assertTrue(schemas.containsAll(List.of("quiet", "dementia_control")), schemas.toString());
        assertEquals("OK", row("quiet").findElement(By.cssSelector(".badge")).getText());

        ((JavascriptExecutor) driver).executeScript("window.sameDocument = 'still here';");
        s.use("arrived_later");
        waitUpTo(8).until(d -> !d.findElements(By.cssSelector("#pool-rows tr[data-schema='arrived_later']")).isEmpty());
        assertEquals("still here", ((JavascriptExecutor) driver).executeScript("return window.sameDocument;"), "updated without a reload");
        waitUpTo(8).until(d -> !row("busy").findElements(By.cssSelector(".spark path.line-active")).isEmpty());

        driver.findElement(By.cssSelector("th[data-sort='schema']")).click();
        List<String> sorted = driver.findElements(By.cssSelector("#pool-rows tr")).stream().map(r -> r.getAttribute("data-schema")).toList();
        assertEquals(sorted.stream().sorted().toList(), sorted, "sorted by schema");
    }

    @Test
    void resizeShowsTheNewMaxOnThePageAndInMetrics() {
        s.use("growing");
        driver.get(s.url("/admin/pools/growing"));
        assertEquals("5", text("n-max"));
        WebElement max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("8");
        WebElement minIdle = driver.findElement(By.id("resize-min-idle"));
        minIdle.clear();
        minIdle.sendKeys("1");
        driver.findElement(By.id("resize-button")).click();
        assertEquals("resized `growing`: max 5 → 8, min idle 0 → 1", notice());
        assertEquals("8", text("n-max"));
        assertEquals("1", text("n-minIdle"));
        assertEquals(8.0, s.metric("hikaricp_connections_max{pool=\"growing\"}"));
        assertEquals(1.0, s.metric("hikaricp_connections_min{pool=\"growing\"}"));
        driver.get(s.url("/admin"));
        waitUpTo(5).until(d -> row("growing").findElement(By.cssSelector("td.max")).getText().equals("8"));

        driver.get(s.url("/admin/pools/growing"));
        max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("40");
        driver.findElement(By.id("resize-button")).click();
        assertThat(notice(), containsString("Refused: max 40 for schema `growing` exceeds the connection budget of 12"));
        assertThat(text("resize-rule"), containsString("max may be 1 to 12"));
        assertEquals("8", text("n-max"));
    }

    @Test
    void drainClosesTheIdleConnections() throws Exception {
        s.openConnections("draining", 3);
        driver.get(s.url("/admin/pools/draining"));
        assertEquals("3", text("n-total"));
        confirm("drain");
        assertThat(notice(), startsWith("draining `draining`: 3 idle connections closed now"));
        ConsoleServer.eventually("no backend left", () -> s.registry().currentStats("draining").orElseThrow().total() == 0);
        waitUpTo(8).until(d -> text("n-total").equals("0"));
    }

    @Test
    void suspendThenResume() {
        s.use("pausing");
        driver.get(s.url("/admin/pools/pausing"));
        confirm("suspend");
        assertThat(notice(), startsWith("suspended `pausing`"));
        assertEquals("SUSPENDED", text("pool-state"));
        assertThrows(PoolSuspendedException.class, () -> s.use("pausing"));
        assertFalse(driver.findElement(By.id("suspend-confirm")).isDisplayed());
        driver.findElement(By.id("resume-button")).click();
        assertEquals("resumed `pausing`: it takes new work again", notice());
        assertEquals("OPEN", text("pool-state"));
        assertEquals(PoolState.OPEN, s.registry().currentStats("pausing").orElseThrow().state());
        s.use("pausing");
    }

    @Test
    void runningIdleCleanupNowShowsItsReport() {
        driver.get(s.url("/admin/cleanup"));
        WebElement idleMax = driver.findElement(By.id("idle-max-seconds"));
        idleMax.clear();
        idleMax.sendKeys("1");
        driver.findElement(By.id("cleanup-settings-button")).click();
        assertThat(notice(), containsString("closes connections idle longer than 1 s"));
        try {
            s.use("forgotten");
            ConsoleServer.sleep(1200);
            driver.findElement(By.id("cleanup-run-button")).click();
            assertThat(notice(), startsWith("idle cleanup closed "));
            assertThat(notice(), containsString("forgotten"));
            WebElement latest = driver.findElement(By.cssSelector("#run-rows tr"));
            assertThat(latest.getText(), containsString("admin (console, 127.0.0.1)"));
            assertThat(latest.getText(), containsString("forgotten"));
            assertTrue(s.registry().currentStats("forgotten").isEmpty());
        } finally {
            s.server.cleanup().change(Duration.ofSeconds(300), Duration.ofSeconds(600));
        }
    }

    @Test
    void aFormPostedWithoutItsCsrfTokenIsRefused() {
        s.use("forged");
        driver.get(s.url("/admin/pools/forged"));
        ((JavascriptExecutor) driver).executeScript(
                "document.querySelectorAll('#resize-form input[name=_csrf]').forEach(function (e) { e.remove(); });");
        WebElement max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("2");
        driver.findElement(By.id("resize-button")).click();
        assertThat(driver.findElement(By.tagName("h1")).getText(), containsString("Refused: no valid CSRF token"));
        assertThat(text("error-message"), containsString("sent without the console's CSRF token"));
        assertEquals(5, s.registry().currentStats("forged").orElseThrow().max(), "nothing was applied");
    }

    @Test
    void everyPageRunsWithoutScriptErrorsOrPolicyViolations() {
        s.use("clean");
        driver.get(s.url("/admin/audit"));
        ((JavascriptExecutor) driver).executeScript("console.error('the check sees errors')");
        assertThat(String.join("\n", browser.consoleErrors()), containsString("the check sees errors"));
        for (String path : List.of("/admin", "/admin/pools/clean", "/admin/cleanup", "/admin/audit")) {
            driver.get(s.url(path));
            ConsoleServer.sleep(2700);
            assertEquals(List.of(), browser.consoleErrors(), path + " after a refresh cycle");
        }
    }

    @Test
    void everyActionShowsInTheAudit() {
        s.use("audited");
        s.apiJson("POST", "/pools/audited/resize", "{\"max\": 4, \"minIdle\": 0}");
        driver.get(s.url("/admin/audit"));
        WebElement first = driver.findElement(By.cssSelector("#audit tbody tr"));
        assertThat(first.getText(), containsString("resize"));
        assertThat(first.getText(), containsString("audited"));
        assertThat(first.getText(), containsString("max 5 → 4"));
        assertThat(first.getText(), containsString("admin (api, 127.0.0.1)"));
    }
}
