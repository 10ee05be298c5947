package cloud.dementia.db.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.testing.TestDatabase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code query_database} on one project shows of the others, through the catalog views a tenant would try. The
 * service's backends serve every project; here there is one, so everything beta does runs on the backend alpha's
 * reader then uses, with server-side prepared statements on as on a direct connection.
 */
class ReaderCatalogTest {

    @Test
    void aReaderOfAlphaFindsNoStatementSessionSchemaOrTableOfBeta() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target().withDirect(true).withServerPrepared(true),
                     RegistrySettings.defaults().withBudget(2), new SimpleMeterRegistry())) {
            ControlSchema.migrate(registry);
            Projects projects = new Projects(registry);
            String alpha = projects.open("alpha").schema();
            String beta = projects.open("beta").schema();
            // from here on one backend: work one unit at a time reuses the one idle connection
            registry.cleanupIdle(java.time.Duration.ZERO, "test");
            Contexts contexts = new Contexts(registry);
            for (int i = 0; i < 10; i++) {
                contexts.lock(beta, new Contexts.NewContext("acquisition", "beta's plan " + i, List.of(), Optional.empty()), "s");
                contexts.recall(beta, "acquisition", "latest", false);
            }
            List<String> prepared = registry.inReadOnlyTransaction(beta, tx -> tx.query("SELECT statement FROM pg_prepared_statements",
                    r -> r.string(1)));
            assertTrue(prepared.stream().anyMatch(s -> s.contains(beta)),
                    "the shared backend holds statements prepared for beta's work (the premise): " + prepared);
            assertEquals(1, registry.backendPids().size(), "one backend serves both projects (the premise)");

            ConnectionTarget t = db.target();
            try (Connection other = DriverManager.getConnection(t.jdbcUrl(), t.driverProperties()); Statement st = other.createStatement()) {
                // another session of the service, its last query naming beta's schema
                st.execute("SELECT count(*) FROM " + beta + ".context_locks");
                ReadOnlyQueries queries = new ReadOnlyQueries(registry);
                hidden(queries, alpha, beta, "SELECT name, statement FROM pg_prepared_statements");
                hidden(queries, alpha, beta, "SELECT pid, usename, application_name, query FROM pg_stat_activity");
                hidden(queries, alpha, beta, "SELECT schema_name FROM information_schema.schemata");
                hidden(queries, alpha, beta, "SELECT table_schema, table_name FROM information_schema.tables");
                hidden(queries, alpha, beta, "SELECT table_schema, table_name, privilege_type FROM information_schema.table_privileges");
                assertFalse(queries.run(alpha, "SELECT label FROM context_locks", 100).rowsJson().toString().contains("acquisition"));
            }
        }
    }

    @Test
    void whatTheCatalogsStillShowNamesNoProject() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
            ControlSchema.migrate(registry);
            Projects projects = new Projects(registry);
            String alpha = projects.open("alpha").schema();
            String beta = projects.open("Project Beta").schema();
            new Contexts(registry).lock(beta, new Contexts.NewContext("acquisition", "beta's plan", List.of(), Optional.empty()), "s");
            ReadOnlyQueries queries = new ReadOnlyQueries(registry);
            // what PostgreSQL shows every role: the schemas, tables, roles and their sizes, under opaque names
            for (String sql : List.of("SELECT nspname FROM pg_namespace", "SELECT n.nspname, c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
                    "SELECT schemaname, relname, n_live_tup FROM pg_stat_user_tables", "SELECT rolname FROM pg_roles",
                    "SELECT nspname, pg_catalog.obj_description(oid) FROM pg_namespace")) {
                String rows = queries.run(alpha, sql, 1000).rowsJson().toString().toLowerCase(java.util.Locale.ROOT);
                assertFalse(rows.contains("beta") || rows.contains("alpha"), () -> "a project's name shows through `" + sql + "`: " + rows);
            }
            assertTrue(queries.run(alpha, "SELECT nspname FROM pg_namespace", 1000).rowsJson().toString().contains(beta),
                    "the other schema is listed (the premise: PostgreSQL lets every role read its catalog), under its opaque name");
            // the registry that maps names to schemas is not readable
            org.junit.jupiter.api.Assertions.assertThrows(StoreRuleException.class,
                    () -> queries.run(alpha, "SELECT name, schema FROM dementia_control.projects", 10));
            org.junit.jupiter.api.Assertions.assertThrows(StoreRuleException.class,
                    () -> queries.run(alpha, "SELECT schema_key FROM dementia_control.installation", 10));
        }
    }

    private static void hidden(ReadOnlyQueries queries, String alpha, String beta, String sql) {
        String rows = queries.run(alpha, sql, 1000).rowsJson().toString();
        assertFalse(rows.contains(beta) || rows.contains("beta's") || rows.contains(ControlSchema.NAME),
                () -> "alpha's reader sees beta or the control schema through `" + sql + "`: " + rows);
    }
}
