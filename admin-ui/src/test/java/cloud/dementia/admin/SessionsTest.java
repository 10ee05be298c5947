package cloud.dementia.admin;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.store.ConsoleSessionStore;
import cloud.dementia.db.testing.TestDatabase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionsTest {

    static TestDatabase.Fresh db;
    /** Two registries on one database: two replicas of the server. */
    static PoolRegistry first;
    static PoolRegistry second;

    final TestClock clock = new TestClock();
    final Sessions sessions = new Sessions(new ConsoleSessionStore(first), clock);
    final Sessions onOtherReplica = new Sessions(new ConsoleSessionStore(second), clock);

    @BeforeAll
    static void database() {
        db = TestDatabase.get().freshDatabase();
        first = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
        ControlSchema.migrate(first);
        second = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
    }

    @AfterAll
    static void close() {
        second.close();
        first.close();
        db.close();
    }

    @Test
    void idsAreRandom256BitValuesAndEachSessionHasItsOwnCsrfToken() {
        Sessions.Created a = sessions.create("admin");
        Sessions.Created b = sessions.create("admin");
        assertEquals(43, a.id().length(), "32 bytes, URL-safe base64 without padding");
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.session().csrf(), b.session().csrf());
        assertNotEquals(a.id(), a.session().csrf());
        assertFalse(a.session().key().contains(a.id()), "rows are keyed by a hash of the id, not the id");
        long storedIds = first.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT count(*) FROM {s}.console_sessions WHERE key = ? OR csrf = ?", r -> r.longValue(1), a.id(), a.id()).orElseThrow());
        assertEquals(0L, storedIds,
                "the id itself is not stored");
        assertEquals("admin", sessions.find(a.id()).orElseThrow().user());
        assertTrue(sessions.find("not-a-session").isEmpty());
        assertTrue(sessions.find(a.id() + "x").isEmpty());
    }

    @Test
    void aSessionEndsAfterAnHourUnusedOrTwelveHoursAfterLogin() {
        Sessions.Created idle = sessions.create("admin");
        Sessions.Created busy = sessions.create("admin");
        for (int i = 0; i < 12; i++) {
            clock.advance(Duration.ofMinutes(59));
            assertTrue(sessions.find(busy.id()).isPresent(), "used every 59 minutes");
        }
        assertTrue(sessions.find(idle.id()).isEmpty(), "unused for more than an hour");
        clock.advance(Duration.ofMinutes(59));
        assertTrue(sessions.find(busy.id()).isEmpty(), "more than 12 hours after login");
    }

    @Test
    void logoutEndsTheSessionAndANoticeIsShownOnce() {
        Sessions.Created c = sessions.create("admin");
        c.session().notice(Notice.done("resized"));
        assertEquals("resized", c.session().takeNotice().text());
        assertNull(c.session().takeNotice());
        sessions.end(c.session());
        assertTrue(sessions.find(c.id()).isEmpty());
    }

    @Test
    void aLoginOnOneReplicaIsValidOnAnotherWithItsNoticeAndRevealedKey() {
        Sessions.Created c = sessions.create("admin");
        Session there = onOtherReplica.find(c.id()).orElseThrow();
        assertEquals(c.session().csrf(), there.csrf(), "the same CSRF token on both");
        c.session().notice(Notice.refused("no such pool"));
        c.session().reveal("dmk_secret_value_1234");
        assertEquals("no such pool", there.takeNotice().text(), "the redirect may land on the other replica");
        assertEquals("dmk_secret_value_1234", there.takeRevealed());
        assertNull(c.session().takeRevealed(), "shown once, whichever replica showed it");
        onOtherReplica.end(there);
        assertTrue(sessions.find(c.id()).isEmpty(), "a logout on one replica ends the session on every replica");
    }

    @Test
    void aRevealedKeyIsStoredSealedSoTheTableAloneDoesNotDiscloseIt() {
        Sessions.Created c = sessions.create("admin");
        c.session().reveal("dmk_plain_text_must_not_be_stored");
        byte[] stored = new ConsoleSessionStore(first).takeRevealed(c.session().key()).orElseThrow();
        assertFalse(new String(stored, StandardCharsets.ISO_8859_1).contains("dmk_plain_text"), "stored encrypted");
        Session forged = new Session(new ConsoleSessionStore.Row(c.session().key(), "admin", "x", clock.instant(), clock.instant()),
                "another-id", new ConsoleSessionStore(first));
        new ConsoleSessionStore(first).reveal(c.session().key(), stored);
        assertNull(forged.takeRevealed(), "without the cookie's id the sealed key cannot be opened");
    }

    @Test
    void sessionsSurviveARestart() {
        Sessions.Created c = sessions.create("admin");
        Sessions afterRestart = new Sessions(new ConsoleSessionStore(second), clock);
        assertEquals("admin", afterRestart.find(c.id()).orElseThrow().user());
    }

    @Test
    void theStoreIsBounded() {
        for (int i = 0; i < Sessions.MAX + 50; i++) {
            sessions.create("admin");
        }
        assertTrue(sessions.size() <= Sessions.MAX);
    }

    /**
     * The console matters most when the database is in trouble: while the control schema does not answer, the sessions
     * this replica knows stay valid (within their limits), a login still opens one here, and nothing throws.
     */
    @Test
    void whileTheDatabaseIsAwayTheSessionsThisReplicaKnowsStayValid() {
        try (TestDatabase.Fresh own = TestDatabase.get().freshDatabase()) {
            RegistrySettings quick = RegistrySettings.defaults().withAcquireTimeout(Duration.ofMillis(500));
            try (PoolRegistry registry = new PoolRegistry(own.target(), quick, new SimpleMeterRegistry())) {
                ControlSchema.migrate(registry);
                Sessions replica = new Sessions(new ConsoleSessionStore(registry), clock);
                Sessions.Created known = replica.create("admin");
                TestDatabase.get().execute("ALTER DATABASE " + own.name() + " ALLOW_CONNECTIONS false");
                try {
                    TestDatabase.get().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + own.name() + "'");
                    clock.advance(Duration.ofMinutes(30));
                    Session s = replica.find(known.id()).orElseThrow(() -> new AssertionError("a known session outlives the outage"));
                    assertEquals("admin", s.user());
                    s.notice(Notice.done("resized"));
                    assertNull(s.takeNotice(), "the notice is lost, the page is not");
                    Sessions.Created during = replica.create("admin");
                    assertTrue(replica.find(during.id()).isPresent(), "a login during the outage works on this replica");
                    assertTrue(replica.find("never-opened-" + "x".repeat(30)).isEmpty());
                    clock.advance(Duration.ofMinutes(61));
                    assertTrue(replica.find(known.id()).isEmpty(), "the limits still hold");
                } finally {
                    TestDatabase.get().execute("ALTER DATABASE " + own.name() + " ALLOW_CONNECTIONS true");
                }
            }
        }
    }
}
