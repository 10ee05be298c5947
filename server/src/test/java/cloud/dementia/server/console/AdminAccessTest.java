package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who gets into the console and how: login, session cookie, CSRF tokens, login throttling, keys, security headers. */
class AdminAccessTest {

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer();
        s.use("acme");
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static String location(HttpResponse<?> r) {
        return r.headers().firstValue("Location").orElse("");
    }

    @Test
    void aRequestWithoutLoginIsSentToTheLoginPageAndChangesNothing() {
        ConsoleSession anonymous = new ConsoleSession(s);
        HttpResponse<String> page = anonymous.get("/admin/pools/acme");
        assertEquals(303, page.statusCode());
        assertEquals("/admin/login?next=%2Fadmin%2Fpools%2Facme", location(page));
        assertEquals("/admin/login?next=%2Fadmin", location(anonymous.get("/admin")));
        HttpResponse<String> login = anonymous.get("/admin/login?next=%2Fadmin%2Fpools%2Facme");
        assertEquals(200, login.statusCode());
        assertThat(login.body(), containsString("name=\"password\""));
        assertThat(login.body(), containsString("value=\"/admin/pools/acme\""));

        int runs = s.server.cleanup().history().size();
        HttpResponse<String> post = anonymous.post("/admin/cleanup/run", Map.of());
        assertEquals(303, post.statusCode());
        assertThat(location(post), containsString("/admin/login"));
        assertEquals(runs, s.server.cleanup().history().size(), "nothing ran");
        java.util.Set<Integer> backends = s.backendPids();
        HttpResponse<String> reconnect = anonymous.post("/admin/physical/reconnect", Map.of());
        assertEquals(303, reconnect.statusCode());
        assertThat(location(reconnect), containsString("/admin/login"));
        assertEquals(backends, s.backendPids(), "no connection was replaced");
        assertEquals("/admin/login?next=%2Fadmin%2Fphysical", location(anonymous.get("/admin/physical")));
        HttpResponse<String> live = anonymous.get("/admin?live");
        assertEquals(303, live.statusCode(), "a page's live parts need a session as much as the page");
        assertThat(location(live), containsString("/admin/login"));

        HttpResponse<String> api = s.get("/admin/api/pools", Map.of());
        assertEquals(401, api.statusCode());
        assertThat(api.headers().firstValue("WWW-Authenticate").orElse(""), containsString("Basic realm=\"dementia-admin\""));
        assertThat(api.body(), containsString("log in at /admin/login, or send the admin user with HTTP Basic"));
        HttpResponse<String> fromScript = s.get("/admin/api/pools", Map.of("X-Requested-With", "dementia-console"));
        assertEquals(401, fromScript.statusCode());
        assertTrue(fromScript.headers().firstValue("WWW-Authenticate").isEmpty(), "the console's own script gets no password dialog");
    }

    @Test
    void loginOpensASessionWithAStrictHttpOnlyCookieAndGoesWhereItWasAsked() {
        ConsoleSession session = new ConsoleSession(s);
        String token = ConsoleSession.csrf(session.get("/admin/login?next=%2Fadmin%2Fpools%2Facme").body());
        HttpResponse<String> r = session.post("/admin/login", Map.of("_csrf", token, "user", "admin", "password", ConsoleServer.PASSWORD,
                "next", "/admin/pools/acme"));
        assertEquals(303, r.statusCode(), r.body());
        assertEquals("/admin/pools/acme", location(r));
        String cookie = r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("dementia_console=")).findFirst().orElseThrow();
        assertThat(cookie, containsString("HttpOnly"));
        assertThat(cookie, containsString("SameSite=Strict"));
        assertThat(cookie, containsString("Path=/admin"));
        assertEquals(43, session.sessionCookie().length(), "256 random bits");
        HttpResponse<String> pool = session.get("/admin/pools/acme");
        assertEquals(200, pool.statusCode());
        assertThat(pool.body(), containsString("What PostgreSQL sees"));

        HttpResponse<String> evil = new ConsoleSession(s).login("admin", ConsoleServer.PASSWORD);
        assertEquals("/admin", location(evil));
        ConsoleSession redirected = new ConsoleSession(s);
        String t = ConsoleSession.csrf(redirected.get("/admin/login").body());
        assertEquals("/admin", location(redirected.post("/admin/login", Map.of("_csrf", t, "user", "admin", "password", ConsoleServer.PASSWORD,
                "next", "//evil.example/admin"))), "never sent to another site after login");
    }

    @Test
    void logoutEndsTheSessionAndNeedsItsToken() {
        ConsoleSession session = new ConsoleSession(s).loggedIn();
        String token = session.csrf();
        assertEquals(403, session.post("/admin/logout", Map.of()).statusCode(), "a forged logout is refused too");
        assertEquals(200, session.get("/admin").statusCode());
        HttpResponse<String> out = session.post("/admin/logout", Map.of("_csrf", token));
        assertEquals(303, out.statusCode());
        assertEquals("/admin/login?bye", location(out));
        assertEquals(303, session.get("/admin").statusCode(), "the old cookie opens nothing");
    }

    @Test
    void theLoginFormNeedsItsOwnCsrfToken() {
        ConsoleSession session = new ConsoleSession(s);
        session.get("/admin/login");
        HttpResponse<String> none = session.post("/admin/login", Map.of("user", "admin", "password", ConsoleServer.PASSWORD));
        assertEquals(403, none.statusCode());
        assertThat(none.body(), containsString("CSRF token missing or wrong"));
        HttpResponse<String> wrong = session.post("/admin/login", Map.of("_csrf", "x".repeat(43), "user", "admin", "password", ConsoleServer.PASSWORD));
        assertEquals(403, wrong.statusCode());
        assertTrue(session.sessionCookie() == null, "no session was opened");
    }

    @Test
    void everyPostNeedsTheSessionsCsrfToken() {
        ConsoleSession session = new ConsoleSession(s).loggedIn();
        ConsoleSession other = new ConsoleSession(s).loggedIn();
        HttpResponse<String> none = session.post("/admin/pools/acme/resize", Map.of("max", "9"));
        assertEquals(403, none.statusCode());
        assertThat(none.body(), containsString("Refused: no valid CSRF token"));
        assertEquals(403, session.post("/admin/pools/acme/resize", Map.of("max", "9", "_csrf", other.csrf())).statusCode(),
                "another session's token");
        assertEquals(403, session.post("/admin/cleanup/run", Map.of()).statusCode());
        java.util.Set<Integer> backends = s.backendPids();
        assertEquals(403, session.post("/admin/physical/reconnect", Map.of()).statusCode());
        assertEquals(403, session.post("/admin/physical/reconnect", Map.of("_csrf", other.csrf())).statusCode());
        assertEquals(5, s.registry().currentStats("acme").orElseThrow().max(), "nothing was applied");
        assertEquals(backends, s.backendPids(), "no connection was replaced");

        HttpResponse<String> ok = session.post("/admin/pools/acme/resize", Map.of("max", "9", "_csrf", session.csrf()));
        assertEquals(303, ok.statusCode());
        assertEquals("/admin/pools/acme", location(ok));
        assertEquals(9, s.registry().currentStats("acme").orElseThrow().max());
        assertThat(session.get("/admin/pools/acme").body(), containsString("resized `acme`: max 5 → 9 (remembered)"));

        HttpResponse<String> reconnect = session.post("/admin/physical/reconnect", Map.of("_csrf", session.csrf()));
        assertEquals(303, reconnect.statusCode());
        assertEquals("/admin/physical", location(reconnect));
        assertThat(session.get("/admin/physical").body(), containsString("reconnecting the physical pool: "));

        HttpResponse<String> api = session.postWithHeader("/admin/api/pools/acme/resize", "{\"max\": 5}", "X-Requested-With", "x");
        assertEquals(403, api.statusCode(), "the API with the session cookie needs the token as well");
        assertThat(api.body(), containsString("X-CSRF-Token"));
        HttpResponse<String> withToken = session.postWithHeader("/admin/api/pools/acme/resize", "{\"max\": 5}", "X-CSRF-Token", session.csrf());
        assertEquals(200, withToken.statusCode(), withToken.body());
        assertEquals(5, s.registry().currentStats("acme").orElseThrow().max());
    }

    @Test
    void apiKeysDoNotOpenTheConsoleAndTheAdminLoginDoesNotOpenMcp() {
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + ConsoleServer.API_KEY);
        HttpResponse<String> page = s.get("/admin", bearer);
        assertEquals(303, page.statusCode());
        assertThat(location(page), containsString("/admin/login"));
        HttpResponse<String> api = s.get("/admin/api/pools", bearer);
        assertEquals(401, api.statusCode());
        assertThat(api.body(), containsString("API keys do not open the console API"));
        assertEquals(401, s.api("GET", "/pools", null, "admin", "wrong-password").statusCode());

        Map<String, String> admin = Map.of("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD));
        for (String path : List.of("/mcp", "/execute", "/tools", "/metrics")) {
            assertEquals(401, s.get(path, admin).statusCode(), path + " with the admin login");
        }
        ConsoleSession session = new ConsoleSession(s).loggedIn();
        assertEquals(401, s.get("/mcp", Map.of("Cookie", "dementia_console=" + session.sessionCookie())).statusCode(),
                "/mcp with a console session");
        assertEquals(200, s.get("/metrics", bearer).statusCode(), "the key still opens what it is for");
    }

    @Test
    void everyConsoleResponseCarriesTheSecurityHeadersAndNoInlineScript() {
        ConsoleSession session = new ConsoleSession(s).loggedIn();
        Pattern inlineScript = Pattern.compile("<script(?![^>]*\\ssrc=)[^>]*>", Pattern.CASE_INSENSITIVE);
        Pattern inlineStyleOrHandler = Pattern.compile("\\s(style|on[a-z]+)=\"", Pattern.CASE_INSENSITIVE);
        Pattern external = Pattern.compile("\\s(src|href)=\"(https?:)?//", Pattern.CASE_INSENSITIVE);
        for (String path : List.of("/admin/login", "/admin", "/admin?sort=max&dir=asc", "/admin/pools/acme", "/admin/physical",
                "/admin/cleanup", "/admin/audit", "/admin/nothing")) {
            HttpResponse<String> r = path.equals("/admin/login") ? new ConsoleSession(s).get(path) : session.get(path);
            assertTrue(r.statusCode() == 200 || r.statusCode() == 404, path + " " + r.statusCode());
            assertSecurityHeaders(r, path);
            assertThat(r.headers().firstValue("Content-Type").orElse(""), containsString("text/html"));
            assertFalse(inlineScript.matcher(r.body()).find(), path + " has an inline script");
            assertFalse(inlineStyleOrHandler.matcher(r.body()).find(), path + " has an inline style or event handler");
            assertFalse(external.matcher(r.body()).find(), path + " loads something from another site");
            assertThat(r.body(), containsString("<script defer src=\"/admin/static/console.js?v="));
        }
        for (String live : List.of("/admin?live", "/admin/pools/acme?live", "/admin/physical?live", "/admin/cleanup?live")) {
            HttpResponse<String> r = session.get(live);
            assertEquals(200, r.statusCode(), live);
            assertSecurityHeaders(r, live);
            assertFalse(inlineScript.matcher(r.body()).find(), live + " has an inline script");
            assertFalse(inlineStyleOrHandler.matcher(r.body()).find(), live + " has an inline style or event handler");
            assertThat(live + " is the page's live parts, not a page", r.body(), not(containsString("<html")));
            assertThat(r.body(), containsString("data-live"));
        }
        assertSecurityHeaders(s.api("GET", "/pools", null), "/admin/api/pools");
        assertSecurityHeaders(s.api("GET", "/physical", null), "/admin/api/physical");
        assertEquals("/admin/physical", location(session.get("/admin/pools/physical")),
                "no schema is called physical: the schema page's path leads to the physical pool's");
        HttpResponse<String> js = s.get("/admin/static/console.js", Map.of());
        assertEquals(200, js.statusCode());
        assertThat(js.headers().firstValue("Content-Type").orElse(""), containsString("text/javascript"));
        assertSecurityHeaders(js, "console.js");
        String etag = js.headers().firstValue("ETag").orElseThrow();
        assertEquals(304, s.get("/admin/static/console.js", Map.of("If-None-Match", etag)).statusCode());
        assertEquals(200, s.get("/admin/static/console.css", Map.of()).statusCode());
        // normalised to /etc/passwd: outside the console, so deny-by-default asks for an API key; nothing is served
        assertEquals(401, s.get("/admin/static/../../etc/passwd", Map.of()).statusCode());
        assertEquals(404, s.get("/admin/static/nothing.js", Map.of()).statusCode());
    }

    static void assertSecurityHeaders(HttpResponse<String> r, String what) {
        String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
        assertThat(what, csp, containsString("script-src 'self'"));
        assertThat(what, csp, containsString("frame-ancestors 'none'"));
        assertThat(what, csp, not(containsString("unsafe-inline")));
        assertThat(what, csp, not(containsString("unsafe-eval")));
        assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElse(""), what);
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""), what);
    }

    @Test
    void repeatedFailedLoginsFromOneAddressSlowDown() {
        ConsoleSession client = new ConsoleSession(s, "127.0.0.31");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> wrong = client.login("mallory", "guess-" + i);
            assertEquals(401, wrong.statusCode());
            assertThat(wrong.body(), containsString("Wrong user or password."));
        }
        HttpResponse<String> refused = client.login("admin", ConsoleServer.PASSWORD);
        assertEquals(429, refused.statusCode(), "refused unchecked, even with the right password");
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
        assertThat(refused.body(), containsString("Too many failed logins from this address or for this user: try again in 1 s"));
        assertEquals(303, new ConsoleSession(s, "127.0.0.32").login("admin", ConsoleServer.PASSWORD).statusCode(),
                "another address is not slowed down");
        ConsoleServer.sleep(1100);
        assertEquals(303, client.login("admin", ConsoleServer.PASSWORD).statusCode(), "after the wait the right password opens it");
    }

    /** Throttling is per address first: a few wrong passwords from somewhere else do not lock the admin out. */
    @Test
    void wrongPasswordsFromAnotherAddressDoNotLockTheAdminOut() {
        ConsoleSession attacker = new ConsoleSession(s, "127.0.0.61");
        for (int i = 0; i < 5; i++) {
            attacker.login("admin", "guess-" + i);
        }
        assertEquals(429, attacker.login("admin", "guess").statusCode(), "the guessing address waits");
        assertEquals(303, new ConsoleSession(s, "127.0.0.62").login("admin", ConsoleServer.PASSWORD).statusCode(),
                "the admin's own address is not slowed by another's failures");
    }

    @Test
    void manyAddressesGuessingOneUserSlowItDownFromEveryAddress() {
        for (int i = 0; i < 20; i++) {
            assertEquals(401, new ConsoleSession(s, "127.0.1." + (i + 1)).login("ops", "guess").statusCode());
        }
        assertEquals(429, new ConsoleSession(s, "127.0.2.1").login("ops", "guess").statusCode(),
                "after 20 failures from anywhere, a new address guessing the same user waits");
    }

    @Test
    void failedBasicAuthOnTheApiIsSlowedDownToo() {
        ConsoleSession client = new ConsoleSession(s, "127.0.0.51");
        HttpRequest wrong = HttpRequest.newBuilder(URI.create(s.url("/admin/api/pools")))
                .header("Authorization", ConsoleServer.basic("robot", "guess")).GET().build();
        for (int i = 0; i < 3; i++) {
            assertEquals(401, client.send(wrong).statusCode());
        }
        HttpResponse<String> refused = client.send(wrong);
        assertEquals(429, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
        assertThat(refused.body(), containsString("too many failed logins"));
    }
}
