package cloud.dementia.db.schema;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.ReadOnlyQueries;
import cloud.dementia.db.testing.TcpProxy;
import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A project's first migration killed at every step, as {@code kill -9} would. What a kill leaves in the database is
 * what was committed before it: a kill anywhere between two commits leaves the same as a kill just before the second.
 * So the process talks to PostgreSQL through a proxy that cuts every connection just before the n-th {@code COMMIT} it
 * would send, n = 0, 1, 2 ... until a first use runs to its end before that: every state a kill can leave is made once.
 * After each cut a new process opens the project: it migrates it to the end, and the tools work on it.
 */
class FirstMigrationKilledTest {

    private static final RegistrySettings SETTINGS = RegistrySettings.defaults().withAcquireTimeout(Duration.ofMillis(1000));
    /** The killed process: after the cut its calls fail at once rather than wait for a connection. */
    private static final RegistrySettings DYING = RegistrySettings.defaults().withAcquireTimeout(Duration.ofMillis(300));
    /** The project migrations there are on plain PostgreSQL (db/project and db/plain/project V*.sql, read from the build's classes). */
    private static final int MIGRATIONS = countMigrations();

    private static int countMigrations() {
        int n = 0;
        for (String location : java.util.List.of("db/project", "db/plain/project")) {
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                    java.nio.file.Path.of(FirstMigrationKilledTest.class.getClassLoader().getResource(location).toURI()))) {
                n += (int) files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
            } catch (java.io.IOException | java.net.URISyntaxException e) {
                throw new IllegalStateException("cannot list the project migrations: " + e.getMessage(), e);
            }
        }
        return n;
    }

    @Test
    void aFirstMigrationKilledAtAnyStepIsFinishedByTheNextOpen() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             TcpProxy proxy = new TcpProxy(host(db.target()), port(db.target()));
             PoolRegistry next = new PoolRegistry(db.target(), SETTINGS, new SimpleMeterRegistry())) {
            ControlSchema.migrate(next);
            String dyingApp = db.target().applicationName() + "-killed";
            ConnectionTarget viaProxy = new ConnectionTarget(db.target().jdbcUrl().replaceFirst("//[^/]+/", "//127.0.0.1:" + proxy.port() + "/"),
                    db.target().user(), db.target().password(), dyingApp);
            long deadline = System.nanoTime() + Duration.ofSeconds(55).toNanos();
            int kills = 0;
            for (int step = 0; ; step++) {
                String name = "first-use-" + step;
                proxy.cutBefore("COMMIT", step);
                AtomicReference<RuntimeException> failed = new AtomicReference<>();
                try (PoolRegistry dying = new PoolRegistry(viaProxy, DYING, new SimpleMeterRegistry())) {
                    Thread first = Thread.ofVirtual().start(() -> {
                        try {
                            new Projects(dying).open(name);
                        } catch (RuntimeException e) {
                            failed.set(e);
                        }
                    });
                    // once cut, the process is dead: whatever its threads still do (Flyway waits and retries) is not
                    // waited for; closing its registry leaves them no connection
                    while (!first.join(Duration.ofMillis(10)) && !proxy.wasCut()) {
                        assertTrue(System.nanoTime() < deadline, "a first use took longer than the whole test may");
                    }
                }
                boolean killed = proxy.wasCut();
                assertTrue(killed || failed.get() == null, () -> "a first use failed though nothing was cut: " + failed.get());
                proxy.heal();
                if (!killed) {
                    break; // this first use ran to its end before the step it would have been killed at: every step was tried
                }
                kills++;
                awaitGone(dyingApp);
                usable(next, name, step);
                assertTrue(System.nanoTime() < deadline, "the first use was killed at " + kills + " steps within 55 s and had not finished yet");
            }
            assertThat("a first use commits at least once per migration", kills, greaterThan(MIGRATIONS));
        }
    }

    /** A new process opens the project: every migration recorded once, and the tools work. */
    private static void usable(PoolRegistry registry, String name, int step) {
        String schema;
        try {
            schema = new Projects(registry).open(name).schema();
        } catch (RuntimeException e) {
            throw new AssertionError("killed at step " + step + ", the next open of `" + name + "` failed: " + e.getMessage(), e);
        }
        int recorded = registry.inStatement(schema, tx -> tx.queryOne(
                "SELECT count(*)::int FROM {s}.flyway_schema_history WHERE version IS NOT NULL AND success", r -> r.integer(1)).orElseThrow());
        assertEquals(MIGRATIONS, recorded, "killed at step " + step + ": migrations recorded");
        Contexts contexts = new Contexts(registry);
        contexts.lock(schema, new Contexts.NewContext("style", "Tabs, never spaces.", List.of("code"), Optional.empty()), "s");
        assertEquals("1.1", contexts.lock(schema, new Contexts.NewContext("style", "Four spaces.", List.of(), Optional.empty()), "s").version());
        assertEquals("Four spaces.", contexts.recall(schema, "style", "latest", false).orElseThrow().content());
        assertFalse(contexts.search(schema, "spaces", Optional.empty(), List.of(), 5).isEmpty(), "killed at step " + step + ": search");
        assertEquals(List.of("{\"n\":2,\"topic\":\"style\"}"),
                new ReadOnlyQueries(registry).run(schema, "SELECT count(*)::int AS n, min(topic) AS topic FROM context_locks", 10).rowsJson(),
                "killed at step " + step + ": query_database as the project's reader");
    }

    private static void awaitGone(String applicationName) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (TestDatabase.get().backends(applicationName) > 0) {
            assertTrue(System.nanoTime() < until, "the killed process's backends are still there after 5 s");
            Thread.sleep(5);
        }
    }

    private static String host(ConnectionTarget target) {
        return address(target).group(1);
    }

    private static int port(ConnectionTarget target) {
        String port = address(target).group(2);
        return port == null ? 5432 : Integer.parseInt(port);
    }

    private static Matcher address(ConnectionTarget target) {
        Matcher m = Pattern.compile("^jdbc:postgresql://([^:/]+)(?::(\\d+))?/").matcher(target.jdbcUrl());
        assertTrue(m.find(), target.jdbcUrl());
        return m;
    }
}
