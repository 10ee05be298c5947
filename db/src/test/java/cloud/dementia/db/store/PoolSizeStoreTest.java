package cloud.dementia.db.store;

import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.testing.TestDatabase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolSizeStoreTest {

    private static PoolStats use(PoolRegistry registry, String schema) {
        registry.inStatement(schema, tx -> tx.queryOne("SELECT 1", r -> 1));
        return registry.currentStats(schema).orElseThrow();
    }

    private static PoolRegistry started(TestDatabase.Fresh db) {
        PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
        ControlSchema.migrate(registry);
        registry.rememberSizesIn(new PoolSizeStore(registry));
        return registry;
    }

    @Test
    void aResizeIsRememberedWhenIdleCleanupForgetsThePoolAndAcrossARestart() {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            try (PoolRegistry registry = started(db)) {
                assertEquals(5, use(registry, "acme").max(), "DB_POOL_MAX_PER_SCHEMA to begin with");
                registry.resize("acme", 8);
                registry.cleanupIdle(Duration.ofNanos(1), "test");
                assertTrue(registry.currentStats("acme").isEmpty(), "idle cleanup forgot the pool");
                PoolStats again = use(registry, "acme");
                assertEquals(8, again.max());
                assertTrue(again.ownSize());
            }
            try (PoolRegistry restarted = started(db)) {
                PoolStats after = use(restarted, "acme");
                assertEquals(8, after.max(), "remembered across a restart");
                assertTrue(after.ownSize());
                assertEquals(5, use(restarted, "other").max(), "other schemas keep the default");
                restarted.resize("acme", 5);
            }
            try (PoolRegistry third = started(db)) {
                PoolStats back = use(third, "acme");
                assertEquals(5, back.max());
                assertFalse(back.ownSize(), "resizing back to the default forgot the size");
            }
        }
    }
}
