package cloud.dementia.db.pool;

import java.time.Duration;
import java.util.function.UnaryOperator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import cloud.dementia.db.testing.TestDatabase;

/** A registry over a fresh database of the test's own; closing closes the registry and drops the database. */
final class RegistryFixture implements AutoCloseable {

    final TestDatabase.Fresh db;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final PoolRegistry registry;

    RegistryFixture(UnaryOperator<RegistrySettings> settings) {
        this.db = TestDatabase.get().freshDatabase();
        RegistrySettings s = settings.apply(RegistrySettings.defaults()
                .withAcquireTimeout(Duration.ofMillis(2000)));
        this.registry = new PoolRegistry(db.target(), s, meters);
    }

    /** Creates the schemas with a table {@code t(v text)} holding one row that names its schema. */
    void schemas(String... names) {
        TestDatabaseSql.run(db, names);
    }

    int backends() {
        return db.backends();
    }

    @Override
    public void close() {
        registry.close();
        db.close();
    }
}
