package cloud.dementia.db.store;

import java.util.HashMap;
import java.util.Map;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolSizes;
import cloud.dementia.db.schema.ControlSchema;

/** The sizes operators gave schema pools, in the control schema ({@code pool_sizes}): every replica reads them. */
public final class PoolSizeStore implements PoolSizes {

    private final PoolRegistry registry;

    public PoolSizeStore(PoolRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Map<String, Integer> load() {
        return registry.inStatement(ControlSchema.NAME, tx -> {
            Map<String, Integer> sizes = new HashMap<>();
            tx.query("SELECT schema, max FROM {s}.pool_sizes", r -> sizes.put(r.string(1), r.integer(2)));
            return sizes;
        });
    }

    @Override
    public void remember(String schema, int max) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update("INSERT INTO {s}.pool_sizes (schema, max) VALUES (?, ?) "
                + "ON CONFLICT (schema) DO UPDATE SET max = EXCLUDED.max, updated_at = now()", schema, max));
    }

    @Override
    public void forget(String schema) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update("DELETE FROM {s}.pool_sizes WHERE schema = ?", schema));
    }
}
