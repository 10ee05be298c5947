package cloud.dementia.db.pool;

/**
 * No connection could be had within the acquire timeout. HTTP maps it to 503 with {@code Retry-After}, MCP to a tool
 * error. The message names the schema and both levels' numbers: the schema's own pool and all schemas together.
 */
public final class PoolTimeoutException extends PoolException {

    private final PoolStats pool;
    private final BudgetStats budget;
    private final long waitedMillis;

    public PoolTimeoutException(PoolStats pool, BudgetStats budget, long waitedMillis, String why, Throwable cause) {
        super(pool.schema(), String.format("no connection for schema `%s` within %d ms (%d/%d in use, %d waiting; "
                        + "all schemas: %d/%d in use, %d waiting, %d backends open)%s",
                pool.schema(), waitedMillis, pool.active(), pool.max(), pool.waiting(), budget.inUse(), budget.budget(), budget.waiting(),
                budget.allocated(), why == null ? "" : ": " + why), cause);
        this.pool = pool;
        this.budget = budget;
        this.waitedMillis = waitedMillis;
    }

    public PoolStats pool() {
        return pool;
    }

    public BudgetStats budget() {
        return budget;
    }

    public long waitedMillis() {
        return waitedMillis;
    }
}
