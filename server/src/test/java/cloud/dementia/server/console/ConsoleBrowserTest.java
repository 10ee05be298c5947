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
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolSuspendedException;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (headless Chromium), the way an operator uses it: sign in, read the budget, the
 * physical pool and the schema pools, act on one, and see the effect. A failing test leaves a screenshot in
 * {@code server/target/browser-failures/}.
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

    /** Waits, reading again when the page's refresh replaced what was being read. */
    WebDriverWait waitUpTo(int seconds) {
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(seconds));
        wait.ignoring(StaleElementReferenceException.class);
        return wait;
    }

    Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /**
     * The rendered text of the first element matching {@code css} now, or {@code null}: read in one step in the page,
     * so the page's refresh cannot swap the element out between finding and reading it.
     */
    String shown(String css) {
        return (String) script("var e = document.querySelector(arguments[0]); return e === null ? null : e.innerText.trim();", css);
    }

    boolean present(String css) {
        return (Boolean) script("return document.querySelector(arguments[0]) !== null;", css);
    }

    /** The text of an element, waiting for it: a click that submits a form returns before the next page is there. */
    String text(String id) {
        return waitUpTo(5).until(d -> shown("#" + id));
    }

    /**
     * The notice's text once it shows. Found and read inside the wait: when the page's refresh replaces the element
     * in between, Chromium answers "Node with given id does not belong to the document" (an unknown error, not a stale
     * element), and the wait reads it again.
     */
    String notice() {
        WebDriverWait wait = waitUpTo(5);
        wait.ignoring(org.openqa.selenium.WebDriverException.class);
        return wait.until(d -> {
            WebElement e = d.findElement(By.id("notice"));
            return e.isDisplayed() ? e.getText() : null;
        });
    }

    /** @return the selector of a schema's row in the pools table */
    static String row(String schema) {
        return "#pool-rows tr[data-schema='" + schema + "']";
    }

    List<String> rowOrder() {
        @SuppressWarnings("unchecked")
        List<String> order = (List<String>) script(
                "return Array.prototype.map.call(document.querySelectorAll('#pool-rows tr'), function (r) { return r.getAttribute('data-schema'); });");
        return order;
    }

    List<Integer> backendRows() {
        @SuppressWarnings("unchecked")
        List<String> pids = (List<String>) script(
                "return Array.prototype.map.call(document.querySelectorAll('#backends tbody tr'), function (r) { return r.getAttribute('data-pid'); });");
        return pids.stream().map(Integer::parseInt).toList();
    }

    /** Opens a destructive action's confirmation and returns what it says, without confirming yet. */
    String open(String action) {
        assertFalse(driver.findElement(By.id(action + "-button")).isDisplayed(), "hidden until the operator asks for it");
        click(By.cssSelector("#" + action + "-confirm > summary"));
        waitUpTo(5).until(ExpectedConditions.elementToBeClickable(By.id(action + "-button")));
        return driver.findElement(By.id(action + "-text")).getText();
    }

    /** Clicks an element, finding it again when the page's refresh has just replaced it. */
    void click(By what) {
        waitUpTo(5).until(d -> {
            d.findElement(what).click();
            return true;
        });
    }

    /** Opens a destructive action's confirmation and confirms it; returns what the confirmation said. */
    String confirm(String action) {
        String said = open(action);
        // the page refreshes itself meanwhile: an open confirmation is left as it is, so the button is still the one shown
        ConsoleServer.sleep(2700);
        driver.findElement(By.id(action + "-button")).click();
        return said;
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
    void thePoolsPageShowsTheBudgetThePhysicalPoolAndTheSaturatedSchemaFirstAndRefreshesItself() throws Exception {
        s.use("quiet");
        s.use("busy");
        s.registry().resize("busy", 2);
        s.hold("busy");
        s.hold("busy");
        s.waiters("busy", 2);
        ConsoleServer.eventually("callers wait on busy", () -> s.registry().currentStats("busy").orElseThrow().waiting() > 0);
        driver.get(s.url("/admin"));
        waitUpTo(5).until(d -> present(row("busy") + ".level-crit"));
        assertEquals("busy", rowOrder().get(0), "the saturated pool comes first");
        assertEquals("SATURATED", shown(row("busy") + " .badge"));
        assertThat(shown(row("busy") + " .why"), startsWith("saturated: all 2 connections it may hold are in use and 2 callers waiting"));
        assertEquals("OWN", shown(row("busy") + " td.max .own"), "a resized pool shows it has its own size");
        assertTrue(rowOrder().containsAll(List.of("quiet", "dementia_control")), rowOrder().toString());
        assertEquals("OK", shown(row("quiet") + " .badge"));
        assertFalse(present(row("quiet") + " td.max .own"), "the default size has no marker");

        assertThat(shown("#physical-row"), containsString("physical"));
        assertEquals("12", shown("#physical-row td.max"), "the physical pool's max is the budget");
        assertEquals("OK", shown("#physical-row .badge"));
        assertThat(Integer.parseInt(text("budget-in-use")), greaterThanOrEqualTo(2));
        assertEquals("12", text("budget-total"));
        assertTrue(present("#budget-bar rect.seg[data-schema='busy']"), "busy holds part of the budget");

        script("window.sameDocument = 'still here';");
        s.use("arrived_later");
        waitUpTo(8).until(d -> present(row("arrived_later")));
        assertEquals("still here", script("return window.sameDocument;"), "updated without a reload");
        waitUpTo(8).until(d -> present(row("busy") + " .spark path.line-active"));
        waitUpTo(8).until(d -> present("#physical-row .spark path.line-total"));

        click(By.cssSelector("th a[data-sort='schema']"));
        waitUpTo(5).until(d -> rowOrder().equals(rowOrder().stream().sorted().toList()));
        assertThat(driver.getCurrentUrl(), containsString("?sort=schema&dir=asc"));
        assertEquals("still here", script("return window.sameDocument;"), "sorted without a reload");
        ConsoleServer.sleep(2700);
        assertEquals(rowOrder().stream().sorted().toList(), rowOrder(), "the refresh keeps the order");
        click(By.cssSelector("th a[data-sort='schema']"));
        waitUpTo(5).until(d -> rowOrder().equals(rowOrder().stream().sorted(java.util.Comparator.reverseOrder()).toList()));
    }

    /** Runs {@code n} units of work of two statements each on the schema, as the database sees them. */
    void work(String schema, int n) {
        for (int i = 0; i < n; i++) {
            s.registry().inTransaction(schema, tx -> {
                tx.queryOne("SELECT 1", r -> r.integer(1));
                return tx.queryOne("SELECT 2", r -> r.integer(1));
            });
        }
    }

    /**
     * The pages are rendered once, on the server: the script swaps in the parts that change, rendered from the same
     * template, and a form inside a swapped part still posts with its CSRF token. What the operator is doing stays:
     * the resize form is not in a swapped part, and an open confirmation is not swapped.
     */
    @Test
    void numbersThatChangeInTheDatabaseAreSwappedInAndTheSwappedFormsStillWork() {
        s.use("swapped");
        driver.get(s.url("/admin/pools/swapped"));
        script("window.sameDocument = 'still here'; document.getElementById('actions').rendered = 'with the page';");
        assertEquals("1", text("n-transactions"));
        assertEquals("1", text("n-statements"));
        WebElement max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("7");

        work("swapped", 3);
        waitUpTo(8).until(d -> "4".equals(shown("#n-transactions")));
        assertEquals("7", text("n-statements"), "1 + 3 units of 2 statements");
        assertEquals("1.8 per unit", shown("#n-statements + .help"));
        assertEquals("still here", script("return window.sameDocument;"), "swapped in without a reload");
        assertEquals(null, script("return document.getElementById('actions').rendered || null;"), "the actions part was swapped");
        assertEquals("7", driver.findElement(By.id("resize-max")).getAttribute("value"), "a value being typed is not swapped away");
        assertEquals("resize-max", script("return document.activeElement.id;"), "nor the focus");

        String said = confirm("suspend");
        assertThat(said, containsString("New work for it fails at once"));
        assertThat(notice(), startsWith("suspended `swapped`"));
        assertEquals(PoolState.SUSPENDED, s.registry().currentStats("swapped").orElseThrow().state(),
                "the form of a swapped part posted with its CSRF token");
        driver.findElement(By.id("resume-button")).click();
        assertThat(notice(), startsWith("resumed `swapped`"));

        driver.get(s.url("/admin?sort=transactions&dir=desc"));
        script("window.sameDocument = 'still here';");
        assertEquals("4", shown(row("swapped") + " .n-transactions"));
        assertEquals("7 stmts", shown(row("swapped") + " td.units .stmts"));
        assertThrows(IllegalStateException.class, () -> s.registry().inTransaction("swapped", tx -> {
            tx.queryOne("SELECT 1", r -> r.integer(1));
            throw new IllegalStateException("the caller's own bug");
        }));
        waitUpTo(8).until(d -> "1".equals(shown(row("swapped") + " .n-errors")));
        assertEquals("5", shown(row("swapped") + " .n-transactions"));
        assertEquals("still here", script("return window.sameDocument;"), "updated without a reload");
    }

    @Test
    void aResizeIsTheSchemasOwnSizeWhichARetireKeepsAndTheDefaultForgets() {
        s.use("growing");
        driver.get(s.url("/admin/pools/growing"));
        assertEquals("5", text("n-max"));
        assertFalse(present("#own-size"));
        assertThat(text("size-now"), containsString("the default (DB_POOL_MAX_PER_SCHEMA)"));
        WebElement max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("8");
        driver.findElement(By.id("resize-button")).click();
        assertEquals("resized `growing`: max 5 → 8 (remembered)", notice());
        assertEquals("8", text("n-max"));
        assertEquals("OWN SIZE", text("own-size"));
        assertThat(text("size-now"), containsString("OWN SIZE, set by an operator and remembered"));
        assertEquals(8.0, s.metric("db_pool_connections_max{application=\"dementia-cloud\",schema=\"growing\"}"));
        driver.get(s.url("/admin"));
        waitUpTo(5).until(d -> "8".equals(shown(row("growing") + " td.max .max-value")));
        assertEquals("OWN", shown(row("growing") + " td.max .own"));

        driver.get(s.url("/admin/pools/growing"));
        String said = confirm("retire");
        assertThat(said, containsString("next pool, which its next work creates with max 8 (its own size, remembered)"));
        assertThat(said, containsString("No connection is closed."));
        assertThat(notice(), startsWith("retired `growing`: it left the registry"));
        assertThat(driver.getCurrentUrl(), not(containsString("/pools/growing")));
        assertFalse(present(row("growing")));
        s.use("growing");
        waitUpTo(8).until(d -> present(row("growing")));
        assertEquals("8", shown(row("growing") + " td.max .max-value"), "the new pool has the remembered size");
        assertEquals("OWN", shown(row("growing") + " td.max .own"), "and still shows it as its own");

        driver.get(s.url("/admin/pools/growing"));
        max = driver.findElement(By.id("resize-max"));
        max.clear();
        max.sendKeys("40");
        driver.findElement(By.id("resize-button")).click();
        assertThat(notice(), containsString("Refused: max 40 for schema `growing` exceeds the connection budget of 12"));
        assertThat(text("resize-rule"), containsString("max may be 1 to 12"));
        assertEquals("8", text("n-max"));

        driver.findElement(By.id("default-button")).click();
        assertEquals("resized `growing`: max 8 → 5 (the default again)", notice());
        assertEquals("5", text("n-max"));
        assertFalse(present("#own-size"), "the own size is forgotten");
        assertFalse(s.registry().currentStats("growing").orElseThrow().ownSize());
    }

    @Test
    void drainLetsWorkInFlightFinishMakesNewWorkWaitAndClosesNoConnection() throws Exception {
        ConsoleServer.Held held = s.hold("draining");
        java.util.Set<Integer> backends = s.backendPids();
        driver.get(s.url("/admin/pools/draining"));
        assertEquals("1", text("n-active"));
        String said = confirm("drain");
        assertThat(said, containsString("The 1 unit of work in flight now finishes; new work for it waits in line until it has"));
        assertThat(said, containsString("No connection is closed."));
        assertEquals("draining `draining`: new work waits until 1 unit of work in flight has finished; no connection is closed", notice());
        assertEquals("DRAINING", text("pool-state"));
        assertTrue(s.backendPids().containsAll(backends), "no connection closed");
        held.close();
        waitUpTo(8).until(d -> text("pool-state").equals("OPEN"));
        assertTrue(s.backendPids().containsAll(backends), "still no connection closed");
    }

    @Test
    void suspendThenResume() {
        s.use("pausing");
        driver.get(s.url("/admin/pools/pausing"));
        String said = confirm("suspend");
        assertThat(said, containsString("New work for it fails at once with “schema is suspended” until you resume it"));
        assertThat(said, containsString("No connection is closed."));
        assertThat(notice(), startsWith("suspended `pausing`"));
        assertEquals("SUSPENDED", text("pool-state"));
        assertThrows(PoolSuspendedException.class, () -> s.use("pausing"));
        assertFalse(present("#suspend-confirm"), "no suspend while suspended");
        assertFalse(present("#drain-confirm"), "nothing to drain while suspended");
        driver.findElement(By.id("resume-button")).click();
        assertEquals("resumed `pausing`: it takes new work again", notice());
        assertEquals("OPEN", text("pool-state"));
        assertEquals(PoolState.OPEN, s.registry().currentStats("pausing").orElseThrow().state());
        s.use("pausing");
    }

    @Test
    void thePhysicalPoolPageShowsEveryBackendAndReconnectReplacesThem() throws Exception {
        s.openConnections("reconnected", 3);
        java.util.Set<Integer> before = s.backendPids();
        driver.get(s.url("/admin"));
        driver.findElement(By.cssSelector("#physical-row a")).click();
        waitUpTo(5).until(ExpectedConditions.urlContains("/admin/physical"));
        assertEquals("12", text("n-max"));
        assertThat(Integer.parseInt(text("n-total")), greaterThanOrEqualTo(3));
        assertThat(text("server-summary"), startsWith("The physical pool holds"));
        List<Integer> listed = backendRows();
        assertTrue(listed.containsAll(before), "PostgreSQL lists every backend of the pool: " + listed + " vs " + before);

        String said = confirm("reconnect");
        assertThat(said, containsString("idle ones close now"));
        assertThat(said, containsString("in use close when their work gives them back, so no work is interrupted"));
        assertThat(notice(), startsWith("reconnecting the physical pool: "));
        ConsoleServer.eventually("every connection is replaced", () -> s.backendPids().stream().noneMatch(before::contains));
        waitUpTo(8).until(d -> backendRows().stream().noneMatch(before::contains));
        assertThat(shown("#recent-actions tbody tr"), containsString("reconnect"));
    }

    @Test
    void aPoolRetiredElsewhereIsMarkedGoneAndASignedOutPageGoesToTheLogin() {
        s.use("elsewhere");
        driver.get(s.url("/admin/pools/elsewhere"));
        assertFalse(driver.findElement(By.id("gone")).isDisplayed());
        s.apiJson("POST", "/pools/elsewhere/retire", null);
        waitUpTo(8).until(d -> d.findElement(By.id("gone")).isDisplayed());
        assertThat(shown("#gone"), startsWith("This pool is gone (retired)"));

        driver.get(s.url("/admin?sort=schema&dir=desc"));
        driver.manage().deleteCookieNamed("dementia_console");
        waitUpTo(8).until(ExpectedConditions.urlContains("/admin/login"));
        assertThat(driver.getCurrentUrl(), containsString("next=%2Fadmin%3Fsort%3Dschema%26dir%3Ddesc"));
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
            String latest = shown("#run-rows tr");
            assertThat(latest, containsString("admin (console, 127.0.0.1)"));
            assertThat(latest, containsString("forgotten"));
            assertTrue(s.registry().currentStats("forgotten").isEmpty());
        } finally {
            s.server.cleanup().change(Duration.ofSeconds(300), Duration.ofSeconds(600));
        }
    }

    @Test
    void aFormPostedWithoutItsCsrfTokenIsRefused() {
        s.use("forged");
        // the page and its form, before the token is taken out of it (opened again if a late navigation of an earlier
        // test took the browser elsewhere)
        WebElement max = waitUpTo(15).until(d -> {
            if (!d.getCurrentUrl().endsWith("/admin/pools/forged")) {
                d.get(s.url("/admin/pools/forged"));
            }
            return d.findElements(By.id("resize-max")).stream().findFirst().orElse(null);
        });
        script("document.querySelectorAll('#resize-form input[name=_csrf]').forEach(function (e) { e.remove(); });");
        max.clear();
        max.sendKeys("2");
        driver.findElement(By.id("resize-button")).click();
        // the refusal is a new page: wait for it rather than read the h1 of the page being left
        waitUpTo(10).until(ExpectedConditions.textToBePresentInElementLocated(By.tagName("h1"), "Refused"));
        assertThat(driver.findElement(By.tagName("h1")).getText(), containsString("Refused: no valid CSRF token"));
        assertThat(text("error-message"), containsString("sent without the console's CSRF token"));
        assertEquals(5, s.registry().currentStats("forged").orElseThrow().max(), "nothing was applied");
    }

    @Test
    void everyPageRunsWithoutScriptErrorsOrPolicyViolations() {
        s.use("clean");
        driver.get(s.url("/admin/audit"));
        script("console.error('the check sees errors')");
        assertThat(String.join("\n", browser.consoleErrors()), containsString("the check sees errors"));
        for (String path : List.of("/admin", "/admin?sort=max&dir=asc", "/admin/pools/clean", "/admin/physical", "/admin/cleanup", "/admin/audit",
                "/admin/keys")) {
            driver.get(s.url(path));
            ConsoleServer.sleep(2700);
            assertEquals(List.of(), browser.consoleErrors(), path + " after a refresh cycle");
        }
    }

    /** #9: a key is created from the form, shown once, listed with its scope, and revoked with its button. */
    @Test
    void anApiKeyIsCreatedShownOnceListedAndRevoked() {
        driver.get(s.url("/admin/keys"));
        driver.findElement(By.id("key-name")).sendKeys("browser-made");
        driver.findElement(By.id("key-projects")).sendKeys("alpha, team-*");
        driver.findElement(By.id("key-read-only")).click();
        driver.findElement(By.id("create-key-button")).click();
        assertThat(notice(), startsWith("created key `browser-made` (read-only, alpha, team-*)"));
        String key = text("revealed-key");
        assertThat(key, startsWith("dmk_"));
        assertEquals(47, key.length());
        assertThat(shown("#key-browser-made"), containsString("alpha, team-*"));
        assertThat(shown("#key-browser-made"), containsString("read-only"));
        driver.get(s.url("/admin/keys"));
        assertFalse(present("#revealed-key"), "shown once");
        driver.findElement(By.id("revoke-browser-made")).click();
        assertThat(notice(), startsWith("revoked key `browser-made`"));
        assertThat(shown("#key-browser-made"), containsString("revoked"));
        assertFalse(present("#revoke-browser-made"));
    }

    @Test
    void everyActionShowsInTheAudit() {
        s.use("audited");
        s.apiJson("POST", "/pools/audited/resize", "{\"max\": 4}");
        driver.get(s.url("/admin/audit"));
        WebElement first = driver.findElement(By.cssSelector("#audit tbody tr"));
        assertThat(first.getText(), containsString("resize"));
        assertThat(first.getText(), containsString("audited"));
        assertThat(first.getText(), containsString("max 5 → 4"));
        assertThat(first.getText(), containsString("ownSize false → true"));
        assertThat(first.getText(), containsString("admin (api, 127.0.0.1)"));
    }
}
