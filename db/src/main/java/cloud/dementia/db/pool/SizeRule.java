package cloud.dementia.db.pool;

/**
 * What a schema pool's max may be, the one rule {@link PoolRegistry#resize} enforces and the console prints.
 *
 * @param maxAllowed the largest max: the budget ({@code DB_POOL_BUDGET}), since no schema can hold more connections
 *                   than the whole process opens
 * @param defaultMax {@code DB_POOL_MAX_PER_SCHEMA}: a pool resized to it follows the default again (its own size is forgotten)
 */
public record SizeRule(int maxAllowed, int defaultMax) {

    /** @return the rule in words */
    public String describe() {
        return "max may be 1 to " + maxAllowed + " (the budget, DB_POOL_BUDGET: no schema may hold more connections than the whole "
                + "process opens). Any other size than " + defaultMax + " (DB_POOL_MAX_PER_SCHEMA) is the pool's own: remembered in the "
                + "control schema, it outlives a retire, idle cleanup and restarts; resizing to " + defaultMax + " forgets it.";
    }

    /**
     * @throws IllegalArgumentException naming the schema and the rule when {@code max} breaks it
     */
    void check(String schema, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1, got " + max);
        }
        if (max > maxAllowed) {
            throw new IllegalArgumentException("max " + max + " for schema `" + schema + "` exceeds the connection budget of "
                    + maxAllowed + " (DB_POOL_BUDGET): no schema can hold more connections than the whole process may open");
        }
    }
}
