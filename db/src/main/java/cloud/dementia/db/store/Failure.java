package cloud.dementia.db.store;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.pool.PoolSuspendedException;
import cloud.dementia.db.pool.PoolTimeoutException;
import cloud.dementia.db.pool.UnknownPoolException;

/**
 * What a failed piece of work comes to for whoever asked: decided here once, so every transport (the JSON routes, the
 * console pages, MCP) answers the same failure alike and only chooses its own form (a status and a body, an error page,
 * a tool result).
 *
 * @param kind              whose fault, and what to do
 * @param message           one line the caller can act on
 * @param retryAfterSeconds for {@link Kind#UNAVAILABLE}: when to try again (at least 1); 0 otherwise
 */
public record Failure(Kind kind, String message, int retryAfterSeconds) {

    public enum Kind {
        /** no connection in time, the schema suspended, the connection lost, the transaction given up for another: retry (503) */
        UNAVAILABLE(503),
        /** the input breaks a rule (a store's or a value's): fix it (400) */
        BAD_INPUT(400),
        /** the named thing does not exist (404) */
        NOT_FOUND(404),
        /** the name is taken (409) */
        CONFLICT(409),
        /** a bug or an unexpected database error: to be logged (500) */
        INTERNAL(500);

        private final int httpStatus;

        Kind(int httpStatus) {
            this.httpStatus = httpStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }

    /**
     * Classifies a failure. Input errors are a store's {@link StoreRuleException} or an {@link IllegalArgumentException}
     * (a value that does not parse, a name that is not valid); both are the caller's to fix.
     */
    public static Failure of(RuntimeException e) {
        return switch (e) {
            case PoolTimeoutException t -> unavailable(t.getMessage(), (int) Math.max(1, (t.waitedMillis() + 999) / 1000));
            // an operator suspended it: it stays so for a while, no use asking again at once
            case PoolSuspendedException s -> unavailable(s.getMessage(), 30);
            case UnknownPoolException u -> new Failure(Kind.NOT_FOUND, u.getMessage(), 0);
            case DataAccessException d -> database(d);
            // interrupted while waiting: the process is stopping
            case PoolException p -> unavailable(p.getMessage(), 5);
            case ApiKeyStore.KeyNameTakenException k -> new Failure(Kind.CONFLICT, k.getMessage(), 0);
            case StoreRuleException r -> new Failure(Kind.BAD_INPUT, r.getMessage(), 0);
            case IllegalArgumentException i -> new Failure(Kind.BAD_INPUT, i.getMessage(), 0);
            default -> new Failure(Kind.INTERNAL, "internal error: " + e, 0);
        };
    }

    /** @return whether the work may succeed if asked again later, unchanged */
    public boolean unavailable() {
        return kind == Kind.UNAVAILABLE;
    }

    /**
     * A database failure is the caller's to retry when the connection was lost (nothing to fix), when PostgreSQL gave up
     * the transaction for another (serialization failure, deadlock), or when the statement timeout stopped it (the
     * database is too busy to finish in time); anything else is a bug.
     */
    private static Failure database(DataAccessException e) {
        String code = " (SQLSTATE " + e.sqlState() + ")";
        if (e.remoteLoginRefused()) {
            return new Failure(Kind.BAD_INPUT, "a node of the Citus cluster refused the connection the coordinator opened for this call"
                    + code + ": " + firstLine(e.getMessage()) + " (the role, its password in pg_dist_authinfo, or the node's pg_hba.conf)", 0);
        }
        if (e.remoteNode()) {
            return unavailable("a node of the Citus cluster could not be reached" + code + ": " + firstLine(e.getMessage()) + "; retry", 5);
        }
        if (e.connectionLost()) {
            return unavailable("the call lost its database connection" + code
                    + ": a transaction was rolled back, a single statement may or may not have run; retry", 1);
        }
        if (e.transactionConflict()) {
            return unavailable("the database rolled the call back to let a concurrent one finish" + code + "; retry", 1);
        }
        if (e.cancelled()) {
            return unavailable("the database did not finish the call within the statement timeout" + code + "; retry later", 5);
        }
        return new Failure(Kind.INTERNAL, "database error in schema `" + e.schema() + "`: " + e.getMessage(), 0);
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").replaceFirst("^ERROR: ", "");
    }

    private static Failure unavailable(String message, int retryAfterSeconds) {
        return new Failure(Kind.UNAVAILABLE, message, retryAfterSeconds);
    }
}
