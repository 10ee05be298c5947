package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.SQLException;

/** See {@link PoolRegistry#migrationDataSource(String)}. */
final class MigrationDataSource extends ConnectionSource {

    private final String schema;
    private final PoolRegistry registry;

    MigrationDataSource(String schema, PoolRegistry registry) {
        this.schema = schema;
        this.registry = registry;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return registry.openForMigration(schema);
    }

}
