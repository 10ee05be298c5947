package cloud.dementia.db.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreTest {

    static Contexts.NewContext ctx(String label, String content) {
        return new Contexts.NewContext(label, content, List.of(), Optional.empty());
    }

    @Test
    void projectNamesMapToOpaquePrefixedSchemasAndCollisionsAreRefused() {
        byte[] key = "an installation key".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] other = "another installation".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (String name : List.of("My App", "public", "pg_catalog", "dementia_control", "y".repeat(63), "---")) {
            String schema = ProjectName.opaque(name, key).schema();
            assertTrue(schema.matches("proj_[0-9a-f]{24}"), name + " -> " + schema);
            assertFalse(schema.contains(ProjectName.normalised(name).isEmpty() ? "-" : ProjectName.normalised(name)), "the name is not in " + schema);
            assertFalse(schema.equals(ProjectName.opaque(name, other).schema()), "another installation gives another schema");
        }
        assertEquals(ProjectName.opaque("My App", key).schema(), ProjectName.opaque("my_app", key).schema(), "one normalised form, one schema");
        assertFalse(ProjectName.opaque("---", key).schema().equals(ProjectName.opaque("-_-", key).schema()), "punctuation names differ");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProjectName.validate("a;drop")).getMessage(),
                containsString("use 1–63 letters, digits, `_`, `-` or spaces"));
        assertThrows(IllegalArgumentException.class, () -> ProjectName.validate(""));
        assertThrows(IllegalArgumentException.class, () -> ProjectName.validate("x".repeat(64)));
        try (StoreFixture f = new StoreFixture()) {
            ProjectName app = f.projects.open("My App");
            assertTrue(app.schema().matches("proj_[0-9a-f]{24}"), app.schema());
            assertEquals(app.schema(), f.projects.find("My App").orElseThrow().schema());
            Projects.ProjectNameTakenException e = assertThrows(Projects.ProjectNameTakenException.class, () -> f.projects.open("my_app"));
            assertThat(e.getMessage(), containsString("is project `My App`"));

            // a project registered before opaque names keeps its schema, and its normalised name stays taken
            f.registry.inTransaction(cloud.dementia.db.schema.ControlSchema.NAME, tx -> tx.update(
                    "INSERT INTO {s}.projects (name, schema) VALUES ('Old One', 'proj_old_one')"));
            assertEquals("proj_old_one", f.projects.open("Old One").schema());
            assertEquals("1.0", String.valueOf(f.contexts.lock("proj_old_one", ctx("topic", "kept where it was"), null).version()));
            e = assertThrows(Projects.ProjectNameTakenException.class, () -> f.projects.open("old_one"));
            assertThat(e.getMessage(), containsString("is project `Old One`"));
            assertTrue(f.projects.delete("Old One"));
            assertEquals(Boolean.TRUE, f.registry.inStatement(cloud.dementia.db.schema.ControlSchema.NAME,
                    tx -> tx.queryOne("SELECT to_regnamespace('proj_old_one') IS NULL", r -> r.bool(1)).orElseThrow()), "its schema is dropped");
        }
    }

    @Test
    void aProjectDeletedByAnotherReplicaIsCreatedAfreshHereOnNextUse() {
        try (StoreFixture f = new StoreFixture()) {
            Projects here = new Projects(f.registry, java.time.Duration.ZERO);
            Projects otherReplica = new Projects(f.registry);
            String schema = here.open("shared").schema();
            f.contexts.lock(schema, ctx("topic", "before the delete"), "s");
            assertTrue(otherReplica.delete("shared"));
            String again = here.open("shared").schema();
            assertEquals(schema, again);
            assertTrue(f.contexts.labels(again).isEmpty(), "a fresh, empty project");
            assertEquals("1.0", f.contexts.lock(again, ctx("topic", "after the delete"), "s").version());
        }
    }

    @Test
    void twentyConcurrentLocksOfOneTopicGiveTwentyConsecutiveVersions() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("default").schema();
            ExecutorService pool = Executors.newFixedThreadPool(20);
            List<Future<Context>> futures = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int n = i;
                futures.add(pool.submit(() -> f.contexts.lock(schema, ctx("api_rules", "rule number " + n), "s1")));
            }
            Set<String> versions = new TreeSet<>();
            for (Future<Context> fu : futures) {
                versions.add(fu.get(60, TimeUnit.SECONDS).version());
            }
            pool.shutdown();
            Set<String> expected = new TreeSet<>();
            for (int i = 0; i < 20; i++) {
                expected.add("1." + i);
            }
            assertEquals(expected, versions);
            assertEquals(20, f.contexts.versions(schema, "api_rules").size());
        }
    }

    /**
     * A read-only query of one project cannot take what the server holds while it mints a version of another project's
     * topic: beta's lock_context does not wait for alpha's query_database, whatever locks that query asks for.
     */
    @Test
    void aReadOnlyQueryCannotStallAnotherProjectsLocks() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            String alpha = f.projects.open("alpha").schema();
            String beta = f.projects.open("beta").schema();
            f.contexts.lock(beta, ctx("secret", "first"), "s1");
            CompletableFuture<ReadOnlyQueries.Result> query = CompletableFuture.supplyAsync(() -> f.queries.run(alpha,
                    "select pg_advisory_xact_lock(hashtext('" + beta + "'), hashtext('secret')) as l, "
                            + "pg_advisory_xact_lock(hashtext('" + beta + "'), hashtext('fresh')) as m, pg_sleep(3) as s", 10));
            Thread.sleep(500);
            assertFalse(query.isDone(), "the query is still sleeping while beta locks");
            long start = System.nanoTime();
            assertEquals("1.1", f.contexts.lock(beta, ctx("secret", "second"), "s1").version());
            assertEquals("1.0", f.contexts.lock(beta, ctx("fresh", "first"), "s1").version());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs < 1000, "beta's locks took " + tookMs + " ms");
            query.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void lockRecallUnlockWithArchiveAndPriorityRules() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("default").schema();
            Context v0 = f.contexts.lock(schema, ctx("style", "ALWAYS use tabs."), "s1");
            assertEquals("1.0", v0.version());
            assertEquals("always_check", v0.priority());
            Context v1 = f.contexts.lock(schema, ctx("style", "Indentation is important: four spaces."), "s1");
            assertEquals("1.1", v1.version());
            assertEquals("important", v1.priority());
            assertEquals("1.1", f.contexts.recall(schema, "style", "latest", false).orElseThrow().version());
            Context old = f.contexts.recall(schema, "style", "v1.0", false).orElseThrow();
            assertEquals("ALWAYS use tabs.", old.content());
            assertEquals(1, old.accessCount());
            Context preview = f.contexts.recall(schema, "style", "1.0", true).orElseThrow();
            assertEquals("", preview.content());
            assertEquals(2, preview.accessCount());
            assertTrue(f.contexts.recall(schema, "nope", "latest", false).isEmpty());

            StoreRuleException refused = assertThrows(StoreRuleException.class,
                    () -> f.contexts.unlock(schema, "style", "all", false, true, "s1"));
            assertThat(refused.getMessage(), containsString("needs force=true"));
            assertEquals(2, f.contexts.versions(schema, "style").size(), "nothing deleted without force");
            assertEquals(List.of("1.1"), f.contexts.unlock(schema, "style", "1.1", false, true, "s1"));
            assertEquals(List.of("1.0"), f.contexts.unlock(schema, "style", "all", true, true, "s1"));
            assertEquals(2, f.catalog.archives(schema, 10).size());
            assertTrue(f.contexts.versions(schema, "style").isEmpty());
        }
    }

    @Test
    void batchLockIsAllOrNothing() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("default").schema();
            StoreRuleException e = assertThrows(StoreRuleException.class, () -> f.contexts.lockAll(schema,
                    List.of(ctx("a", "first"), ctx("b", "second"), ctx("c", " ")), "s1"));
            assertThat(e.getMessage(), startsWith("item 2: content of `c` must not be empty"));
            assertTrue(f.contexts.labels(schema).isEmpty());
            assertEquals(3, f.contexts.lockAll(schema, List.of(ctx("a", "first"), ctx("b", "second"), ctx("a", "third")), "s1").size());
            assertEquals(List.of("1.1", "1.0"), f.contexts.versions(schema, "a"));
        }
    }

    @Test
    void searchRanksByFullTextAndRelevanceListsAlwaysCheckFirst() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("default").schema();
            f.contexts.lock(schema, ctx("database_migrations", "Migrations run with Flyway. Each migration is versioned."), "s");
            f.contexts.lock(schema, ctx("logging", "Log lines mention the migration id once."), "s");
            f.contexts.lock(schema, ctx("deploy", "Deploys go through the pipeline."), "s");
            f.contexts.lock(schema, ctx("security", "Never log secrets."), "s");
            List<Contexts.Hit> hits = f.contexts.search(schema, "migration", Optional.empty(), List.of(), 10);
            assertEquals(List.of("database_migrations", "logging"), hits.stream().map(h -> h.context().label()).toList());
            assertTrue(hits.get(0).rank() > hits.get(1).rank());
            List<Contexts.Hit> relevant = f.contexts.relevantTo(schema, "I will deploy the new pipeline today", 10);
            assertEquals("security", relevant.get(0).context().label(), "always_check first");
            assertEquals("deploy", relevant.get(1).context().label());
            assertEquals(2, relevant.size());
            Integer plan = f.registry.inStatement(schema, tx -> tx.queryOne(
                    "SELECT count(*) FROM pg_indexes WHERE schemaname = ? AND tablename = 'context_locks' AND indexdef LIKE '%gin (search)%'",
                    r -> r.integer(1), schema).orElseThrow());
            assertEquals(1, plan, "search uses a GIN index");
        }
    }

    @Test
    void readOnlyQueryCannotSeeOtherProjectsOrTheControlSchema() {
        try (StoreFixture f = new StoreFixture()) {
            String a = f.projects.open("alpha").schema();
            String b = f.projects.open("beta").schema();
            f.contexts.lock(a, ctx("topic", "alpha secret"), "s");
            f.contexts.lock(b, ctx("topic", "beta secret"), "s");
            ReadOnlyQueries.Result own = f.queries.run(a, "SELECT label, content FROM context_locks", 100);
            assertEquals(1, own.rowsJson().size());
            assertThat(own.rowsJson().get(0), containsString("alpha secret"));
            for (String sql : List.of("SELECT * FROM " + b + ".context_locks", "SELECT * FROM dementia_control.credentials",
                    "SELECT set_config('role', current_setting('is_superuser'), false)",
                    "SELECT * FROM (SELECT set_config('role', 'postgres', true)) x")) {
                // the caller's error: PostgreSQL's own refusal (permission denied), as a rule the caller broke
                StoreRuleException e = assertThrows(StoreRuleException.class, () -> f.queries.run(a, sql, 100), sql);
                assertThat(sql, e.getMessage(), containsString("(SQLSTATE 42501)"));
                assertFalse(e.getMessage().contains("beta secret"));
            }
            for (String sql : List.of("DELETE FROM context_locks", "SELECT 1; SELECT 2", "SET ROLE postgres", "COPY context_locks TO STDOUT",
                    "WITH x AS (DELETE FROM context_locks RETURNING *) SELECT * FROM x", "select 1 from context_locks for update")) {
                assertThrows(StoreRuleException.class, () -> f.queries.run(a, sql, 100), sql);
            }
            assertEquals(1, f.queries.run(a, "SELECT 'a;b' AS semicolon_in_string;", 100).rowsJson().size());
            ReadOnlyQueries.Result limited = f.queries.run(a, "SELECT g FROM generate_series(1, 10) g", 3);
            assertEquals(3, limited.rowsJson().size());
            assertTrue(limited.truncated());
        }
    }

    /**
     * #9 defects 6 and 3: the database reads queries as the checker does, parameters are bound by PostgreSQL (a value
     * holding a dollar tag or SQL stays data), and what comes back is capped in bytes and per value.
     */
    @Test
    void queriesAreReadAsPostgresqlReadsThemAndParametersAreBound() {
        try (StoreFixture f = new StoreFixture()) {
            String a = f.projects.open("lexing").schema();
            // a $1 inside a dollar-quoted string with a digit in its tag is text, not a parameter
            assertEquals(List.of("{\"t\":\" $1 \"}"), f.queries.run(a, "SELECT $a1$ $1 $a1$ AS t", List.of("zz"), 10).rowsJson());
            // a value holding the old outer tag and a statement is bound as data
            String sneaky = "$p$ ; DROP TABLE context_locks; $p$";
            assertThat(f.queries.run(a, "SELECT $1 AS v", List.of(sneaky), 10).rowsJson().get(0), containsString("DROP TABLE"));
            assertEquals(1, f.queries.run(a, "SELECT count(*) FROM context_locks", 10).rowsJson().size(), "the table is still there");
            // typed by their JSON type
            assertEquals("{\"n\":42,\"b\":false,\"d\":2.5,\"j\":\"y\"}", f.queries.run(a, "SELECT $1 + 1 AS n, NOT $2 AS b, $3 * 1 AS d, $4->>'x' AS j",
                    List.of(41L, true, new java.math.BigDecimal("2.5"), new ReadOnlyQueries.JsonParam("{\"x\":\"y\"}")), 10).rowsJson().get(0));
            assertThat(f.queries.run(a, "SELECT $1::timestamptz < now() AS past", List.of("2020-01-01T00:00:00Z"), 10).rowsJson().get(0),
                    containsString("true"));
            // nested comments are comments to PostgreSQL too
            assertEquals(1, f.queries.run(a, "SELECT 1 AS one /* a /* b */ ; DROP TABLE context_locks */", 10).rowsJson().size());
            // an error position is the caller's, not the rewritten SQL's
            StoreRuleException e = assertThrows(StoreRuleException.class, () -> f.queries.run(a, "SELECT $1, $2, nope", List.of(1L, "x"), 10));
            assertThat(e.getMessage(), containsString("column \"nope\" does not exist (SQLSTATE 42703) at character 16"));
            StoreRuleException cast = assertThrows(StoreRuleException.class, () -> f.queries.run(a, "SELECT $1::int", List.of("x"), 10));
            assertThat(cast.getMessage(), containsString("invalid input syntax for type integer: \"x\" (SQLSTATE 22P02)"));
        }
    }

    @Test
    void queryResultsAreCappedInBytesAndPerValueInsideTheDatabase() {
        try (StoreFixture f = new StoreFixture()) {
            String a = f.projects.open("capped").schema();
            ReadOnlyQueries.Result huge = f.queries.run(a, "SELECT g, repeat('x', 2000000) AS big FROM generate_series(1, 20) g", 100);
            assertEquals("bytes", huge.truncatedBy());
            assertTrue(huge.valuesCut());
            long bytes = huge.rowsJson().stream().mapToLong(j -> j.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum();
            assertTrue(bytes <= ReadOnlyQueries.MAX_BYTES, bytes + " bytes");
            assertThat(huge.rowsJson().get(0), containsString("{\"g\":1,\"big\":\"xxx"));
            assertEquals(ReadOnlyQueries.MAX_VALUE_CHARS + "{\"g\":1,\"big\":\"\"}".length(), huge.rowsJson().get(0).length(),
                    "the value is cut to the limit, the row keeps its columns in order");
            // small limits, to see each cut on its own
            ReadOnlyQueries.Result values = f.queries.run(a, "SELECT 'abcdef' AS s, 12345678 AS n", List.of(), 10, 1000, 4);
            assertEquals("{\"s\":\"abcd\",\"n\":\"1234\"}", values.rowsJson().get(0));
            assertFalse(values.truncated());
            ReadOnlyQueries.Result bytesCut = f.queries.run(a, "SELECT g FROM generate_series(1, 100) g", List.of(), 100, 40, 100);
            assertEquals(List.of("{\"g\":1}", "{\"g\":2}", "{\"g\":3}", "{\"g\":4}", "{\"g\":5}"), bytesCut.rowsJson());
            assertEquals("bytes", bytesCut.truncatedBy());
            ReadOnlyQueries.Result rowsCut = f.queries.run(a, "SELECT g FROM generate_series(1, 100) g", List.of(), 3, 1000, 100);
            assertEquals("rows", rowsCut.truncatedBy());
            assertEquals(3, rowsCut.rowsJson().size());
            assertEquals("rows", f.queries.run(a, "SELECT g FROM generate_series(1, 10) g", 3).truncatedBy());
        }
    }

    @Test
    void sessionCallsAreCountedInMemoryAndWrittenOnceBeforeAnyoneReadsThem() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("counted").schema();
            for (int i = 0; i < 5; i++) {
                f.sessions.countCall(schema, "s1", "recall_context");
            }
            f.sessions.countCall(schema, "s1", "lock_context");
            f.sessions.countCall(schema, "s2", "wake_up");
            // nothing written per call
            assertEquals(Long.valueOf(0), f.registry.<Long>inStatement(schema, tx -> tx.queryOne("SELECT count(*) FROM {s}.sessions", r -> r.longValue(1)).orElseThrow()));
            // a reader writes them first
            assertEquals(java.util.Map.of("recall_context", 5, "lock_context", 1), f.sessions.toolsUsed(schema, "s1"));
            assertEquals(Set.of("s1:6", "s2:1"), new TreeSet<>(f.sessions.recent(schema, 10).stream().map(s -> s.id() + ":" + s.calls()).toList()));

            // counted from many threads while flushes run: every call is there once
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        f.sessions.countCall(schema, "s3", i % 2 == 0 ? "search_contexts" : "recall_context");
                        if (i % 100 == 0) {
                            f.sessions.flushAll();
                        }
                    }
                }));
            }
            for (Future<?> d : done) {
                d.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(java.util.Map.of("search_contexts", 2000, "recall_context", 2000), f.sessions.toolsUsed(schema, "s3"));

            // a write that fails keeps the counts for the next one
            f.sessions.countCall(schema, "s1", "recall_context");
            f.registry.suspend(schema);
            assertThrows(RuntimeException.class, () -> f.sessions.flush(schema));
            f.registry.resume(schema);
            assertEquals(6, f.sessions.toolsUsed(schema, "s1").get("recall_context"));

            // a deleted project's counts go with it, without an error
            f.sessions.countCall(schema, "s1", "recall_context");
            f.projects.delete("counted");
            f.sessions.flushAll();
            f.sessions.flush(schema);
        }
    }
}
