package cloud.dementia.db.pool;

import java.util.Map;

/**
 * Where the registry remembers the sizes operators gave schema pools, so that a resize survives the pool being
 * forgotten by idle cleanup and the process restarting (and other replicas on the same database see it).
 */
public interface PoolSizes {

    /** @return every remembered max, by schema */
    Map<String, Integer> load();

    /** Remembers a schema's max. */
    void remember(String schema, int max);

    /** Forgets a schema's max: it follows {@code DB_POOL_MAX_PER_SCHEMA} again. */
    void forget(String schema);
}
