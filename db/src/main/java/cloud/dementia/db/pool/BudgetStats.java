package cloud.dementia.db.pool;

/**
 * The global connection budget: the physical connections every schema shares.
 *
 * @param budget    most backends the process may hold ({@code DB_POOL_BUDGET})
 * @param allocated backends open now (or still closing)
 * @param inUse     connections checked out now, every schema together
 * @param waiting   callers waiting for a connection now, every schema together
 */
public record BudgetStats(int budget, int allocated, int inUse, int waiting) {

    /** @return connections that could be handed out now without anyone waiting */
    public int free() {
        return budget - inUse;
    }
}
