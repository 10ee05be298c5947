package cloud.dementia.db.pool;

/**
 * The global connection budget.
 *
 * @param budget    most backends the process may hold
 * @param allocated backends open now, every pool counted
 * @param free      backends that may still be opened
 * @param waiting   pools waiting for room in the budget
 */
public record BudgetStats(int budget, int allocated, int free, int waiting) {
}
