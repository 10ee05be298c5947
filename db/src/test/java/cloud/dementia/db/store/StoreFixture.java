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
    final PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
    final Projects projects;
    final Contexts contexts = new Contexts(registry);
    final Sessions sessions = new Sessions(registry);
    final ReadOnlyQueries queries = new ReadOnlyQueries(registry);
    final SchemaCatalog catalog = new SchemaCatalog(registry);

    StoreFixture() {
        ControlSchema.migrate(registry);
        projects = new Projects(registry);
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
