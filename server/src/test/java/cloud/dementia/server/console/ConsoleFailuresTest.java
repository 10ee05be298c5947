package cloud.dementia.server.console;

import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.schema.ControlSchema;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The console's pages answer every failure in one way: no connection in time is an error page with 503 and
 * {@code Retry-After} (an action is never answered as if it had been done), a value the operator can correct goes back
 * to its form with why, an unknown pool is 404. The control schema's pool is made to give no connection the way it
 * happens in production: other work holds every connection it may have.
 */
class ConsoleFailuresTest {

    ConsoleServer s;
    ConsoleSession console;
    String csrf;

    @BeforeEach
    void start() {
        s = new ConsoleServer(Map.of("DB_POOL_MAX_PER_SCHEMA", "2", "DB_POOL_ACQUIRE_TIMEOUT_MS", "300"));
        console = new ConsoleSession(s).loggedIn();
        csrf = console.csrf();
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void anActionThatGetsNoConnectionIs503WithRetryAfterAndChangesNothing() throws Exception {
        assertEquals(201, s.api("POST", "/keys", "{\"name\":\"kept\"}").statusCode());
        try (ConsoleServer.Held a = s.hold(ControlSchema.NAME); ConsoleServer.Held b = s.hold(ControlSchema.NAME)) {
            // before: 303 back to the keys page, whose notice could not be stored either: as if nothing had been asked
            HttpResponse<String> create = console.post("/admin/keys", form("name", "during-outage"));
            assertUnavailable(create);
            HttpResponse<String> revoke = console.post("/admin/keys/kept/revoke", form());
            assertUnavailable(revoke);
            // before: 503 without Retry-After
            assertUnavailable(console.get("/admin/keys"));
            assertUnavailable(console.get("/admin/audit"));
            HttpResponse<String> overApi = s.api("POST", "/keys", "{\"name\":\"during-outage\"}");
            assertEquals(503, overApi.statusCode(), overApi.body());
            assertEquals("1", overApi.headers().firstValue("Retry-After").orElse(""));

            // a change that needs no connection is made (its audit entry is what waits for the database)
            HttpResponse<String> settings = console.post("/admin/cleanup/settings", form("intervalSeconds", "301", "idleMaxSeconds", "601"));
            assertEquals(303, settings.statusCode(), settings.body());
        }
        HttpResponse<String> keys = console.get("/admin/keys");
        assertEquals(200, keys.statusCode());
        assertThat("nothing was created by the refused action", keys.body(), not(containsString("during-outage")));
        assertThat("nor revoked", s.api("GET", "/keys", null).body(), containsString("\"revokedAt\":null"));
        assertEquals(301, s.apiJson("GET", "/cleanup", null).path("intervalSeconds").asInt());
    }

    @Test
    void aValueToCorrectGoesBackToItsFormAndAnUnknownPoolIs404() {
        s.use("alpha");
        HttpResponse<String> refused = console.post("/admin/pools/alpha/resize", form("max", "lots"));
        assertEquals(303, refused.statusCode());
        assertEquals("/admin/pools/alpha", refused.headers().firstValue("Location").orElse(""));
        assertThat(console.get("/admin/pools/alpha").body(), containsString("Refused: max must be a whole number, got `lots`"));

        HttpResponse<String> bad = console.post("/admin/cleanup/settings", form("intervalSeconds", "0", "idleMaxSeconds", "60"));
        assertEquals(303, bad.statusCode());
        assertThat(console.get("/admin/cleanup").body(), containsString("Refused: idle cleanup interval must be positive"));

        HttpResponse<String> unknown = console.post("/admin/pools/nowhere/drain", form());
        assertEquals(404, unknown.statusCode(), unknown.body());
        assertThat(unknown.body(), containsString("no pool for schema `nowhere`"));
    }

    private static void assertUnavailable(HttpResponse<String> res) {
        assertEquals(503, res.statusCode(), res.request().method() + " " + res.request().uri() + ": " + res.body());
        assertEquals("1", res.headers().firstValue("Retry-After").orElse(""), "Retry-After");
        assertThat(res.body(), containsString("no connection for schema `dementia_control` within"));
        assertThat(res.body(), containsString("try again in 1 s"));
    }

    private Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("_csrf", csrf);
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
        }
        return form;
    }
}
