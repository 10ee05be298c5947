package cloud.dementia.db.pool;

import java.time.Duration;

/**
 * Settings of the pool registry, validated once here (at the edge) so the hot paths can trust them.
 *
 * @param budget           most PostgreSQL backends the process may hold, all pools together
 * @param maxPerSchema     default maximum size of one schema's pool
 * @param minIdle          idle physical connections kept open (at most the budget)
 * @param acquireTimeout   longest wait for a connection before a {@link PoolTimeoutException}
 * @param leakThreshold    checkout age reported as a suspected leak
 * @param statementTimeout longest a statement may run (every statement of every unit of work)
 * @param idleMax          idle physical connections older than this are closed, schema pools unused longer are forgotten
 */
public record RegistrySettings(int budget,
                               int maxPerSchema,
                               int minIdle,
                               Duration acquireTimeout,
                               Duration leakThreshold,
                               Duration statementTimeout,
                               Duration idleMax) {

    public RegistrySettings {
        if (budget < 2) {
            throw new IllegalArgumentException("budget must be at least 2 (one connection for the control schema, one for a project), got " + budget);
        }
        if (maxPerSchema < 1 || maxPerSchema > budget) {
            throw new IllegalArgumentException("max per schema must be between 1 and the budget (" + budget + "), got " + maxPerSchema);
        }
        if (minIdle < 0 || minIdle > budget) {
            throw new IllegalArgumentException("min idle must be between 0 and the budget (" + budget + "), got " + minIdle);
        }
        requirePositive(acquireTimeout, "acquire timeout");
        requirePositive(leakThreshold, "leak threshold");
        requirePositive(statementTimeout, "statement timeout");
        requirePositive(idleMax, "idle max");
        if (acquireTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("acquire timeout must be at least 250 ms, got " + acquireTimeout.toMillis() + " ms");
        }
    }

    /** The contract's defaults. */
    public static RegistrySettings defaults() {
        return new RegistrySettings(20, 5, 0, Duration.ofMillis(5000), Duration.ofMillis(10000),
                Duration.ofMillis(30000), Duration.ofSeconds(600));
    }

    public RegistrySettings withBudget(int newBudget) {
        return new RegistrySettings(newBudget, Math.min(maxPerSchema, newBudget), Math.min(minIdle, newBudget),
                acquireTimeout, leakThreshold, statementTimeout, idleMax);
    }

    public RegistrySettings withPoolSize(int max, int newMinIdle) {
        return new RegistrySettings(budget, max, newMinIdle, acquireTimeout, leakThreshold, statementTimeout, idleMax);
    }

    public RegistrySettings withAcquireTimeout(Duration timeout) {
        return new RegistrySettings(budget, maxPerSchema, minIdle, timeout, leakThreshold, statementTimeout, idleMax);
    }

    public RegistrySettings withLeakThreshold(Duration threshold) {
        return new RegistrySettings(budget, maxPerSchema, minIdle, acquireTimeout, threshold, statementTimeout, idleMax);
    }

    public RegistrySettings withStatementTimeout(Duration timeout) {
        return new RegistrySettings(budget, maxPerSchema, minIdle, acquireTimeout, leakThreshold, timeout, idleMax);
    }

    public RegistrySettings withIdleMax(Duration max) {
        return new RegistrySettings(budget, maxPerSchema, minIdle, acquireTimeout, leakThreshold, statementTimeout, max);
    }

    private static void requirePositive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
    }
}
