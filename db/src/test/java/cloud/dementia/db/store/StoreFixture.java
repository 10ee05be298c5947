package cloud.dementia.db.store;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.testing.TestDatabase;

/** A migrated control schema and the stores over a fresh database. */
final class StoreFixture implements AutoCloseable {

    final TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
    final PoolRegistry registry;
    final Projects projects;
    final Contexts contexts;
    final Sessions sessions;
    final ReadOnlyQueries queries;
    final SchemaCatalog catalog;

    StoreFixture() {
        this(s -> s);
    }

    StoreFixture(java.util.function.UnaryOperator<RegistrySettings> settings) {
        registry = new PoolRegistry(db.target(), settings.apply(RegistrySettings.defaults()), new SimpleMeterRegistry());
        ControlSchema.migrate(registry);
        projects = new Projects(registry);
        contexts = new Contexts(registry);
        sessions = new Sessions(registry);
        queries = new ReadOnlyQueries(registry);
        catalog = new SchemaCatalog(registry);
    }

    @Override
    public void close() {
        for (Projects.Project p : projects.list()) {
            projects.delete(p.name());
        }
        registry.close();
        db.close();
    }
}
