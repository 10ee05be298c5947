package cloud.dementia.db.schema;

import org.flywaydb.core.Flyway;

import cloud.dementia.db.pool.PoolRegistry;

/**
 * The control schema: what the service keeps about itself (credentials now; the project registry, MCP sessions and
 * the admin audit log as they arrive). Migrated with Flyway from {@code classpath:db/control}, with its own
 * history table inside the schema.
 */
public final class ControlSchema {

    /** Name of the control schema; never reachable as a project. */
    public static final String NAME = "dementia_control";

    private ControlSchema() {
    }

    /**
     * Creates or upgrades the control schema.
     *
     * @param registry the pool registry (the migration's connections are budget-counted like any other)
     * @return the number of migrations applied
     */
    public static int migrate(PoolRegistry registry) {
        return registry.migrate(NAME, dataSource -> {
            keepOnTheCoordinator(dataSource);
            int applied = flyway(dataSource);
            confineCitusCommands(dataSource);
            return applied;
        });
    }

    /**
     * Citus lets every role run commands on the other nodes ({@code run_command_on_workers} and its kin are executable
     * by PUBLIC): a project's reader, which logs in to the workers for {@code query_database}, could then run SQL there
     * outside its read-only transaction. In the service's database only the service may: revoked from PUBLIC, granted
     * to the service's role (idempotent, at every start).
     */
    static void confineCitusCommands(javax.sql.DataSource dataSource) {
        try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
            st.execute("DO $do$ DECLARE f regprocedure; BEGIN "
                    + "FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE n.nspname = 'pg_catalog' AND (p.proname LIKE 'run\\_command\\_on%' OR p.proname LIKE 'master\\_run\\_on%' "
                    + "OR p.proname = 'citus_run_local_command') AND has_function_privilege('public', p.oid, 'execute') LOOP "
                    + "EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f); "
                    + "EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO CURRENT_USER', f); "
                    + "END LOOP; END $do$");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("Citus's commands could not be kept from project readers: " + e.getMessage(), e);
        }
    }

    /**
     * On a Citus cluster with schema-based sharding every new schema becomes a distributed schema on a worker; the
     * control schema is the service's own small registry, read on every request and joined to nothing, so it stays a
     * plain schema on the coordinator: created here, before Flyway, with sharding off for that one statement.
     */
    static void keepOnTheCoordinator(javax.sql.DataSource dataSource) {
        try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
            boolean citus;
            try (java.sql.ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus'), "
                    + "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '" + NAME + "')")) {
                rs.next();
                citus = rs.getBoolean(1) && !rs.getBoolean(2);
            }
            if (citus) {
                boolean auto = c.getAutoCommit();
                c.setAutoCommit(false);
                st.execute("SET LOCAL citus.enable_schema_based_sharding TO off");
                st.execute("CREATE SCHEMA IF NOT EXISTS " + NAME);
                c.commit();
                c.setAutoCommit(auto);
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("the control schema could not be created: " + e.getMessage(), e);
        }
    }

    private static int flyway(javax.sql.DataSource dataSource) {
        return Flyway.configure(ControlSchema.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(NAME)
                .defaultSchema(NAME)
                .locations("classpath:db/control")
                .table("flyway_schema_history")
                .connectRetries(0)
                .load()
                .migrate().migrationsExecuted;
    }
}
