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
        return registry.migrate(NAME, dataSource -> Flyway.configure(ControlSchema.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(NAME)
                .defaultSchema(NAME)
                .locations("classpath:db/control")
                .table("flyway_schema_history")
                .connectRetries(0)
                .load()
                .migrate().migrationsExecuted);
    }
}
