package cloud.dementia.db.store;

import java.sql.SQLException;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolSuspendedException;
import cloud.dementia.db.pool.UnknownPoolException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What each failure comes to, the same for every transport. (A pool timeout is classified from a real one in the
 * server's tests: {@code ConsoleFailuresTest}, {@code BuiltInKeysTest}, {@code PoolExhaustionTest}.)
 */
class FailureTest {

    @Test
    void whatMaySucceedLaterIsUnavailableWithItsRetryAfter() {
        assertEquals(new Failure(Failure.Kind.UNAVAILABLE, new PoolSuspendedException("acme").getMessage(), 30),
                Failure.of(new PoolSuspendedException("acme")));
        Failure lost = Failure.of(new DataAccessException("acme", new SQLException("terminated", "57P01")));
        assertEquals(Failure.Kind.UNAVAILABLE, lost.kind());
        assertEquals(1, lost.retryAfterSeconds());
        assertEquals(1, Failure.of(new DataAccessException("acme", new SQLException("deadlock", "40P01"))).retryAfterSeconds());
        assertEquals(5, Failure.of(new DataAccessException("acme", new SQLException("canceled", "57014"))).retryAfterSeconds());
        assertEquals(503, lost.kind().httpStatus());
    }

    /** What a Citus coordinator reports of a worker (messages as Citus 13.2 words them): the connection to us is fine. */
    @Test
    void aWorkerThatRefusesTheLoginIsAToolErrorAndOneThatIsDownIsUnavailableNeverALostConnection() {
        DataAccessException refused = new DataAccessException("proj_x", new SQLException("ERROR: connection to the remote node "
                + "dmc_ro_abc@127.0.0.1:55502 failed with the following error: FATAL:  role \"dmc_ro_abc\" is not permitted to log in", "08006"));
        assertFalse(refused.connectionLost(), "not our connection: no retry, no eviction");
        Failure f = Failure.of(refused);
        assertEquals(Failure.Kind.BAD_INPUT, f.kind());
        assertTrue(f.message().contains("a node of the Citus cluster refused the connection"), f.message());
        assertTrue(f.message().contains("is not permitted to log in"), f.message());

        DataAccessException down = new DataAccessException("proj_x", new SQLException("ERROR: connection to the remote node "
                + "postgres@127.0.0.1:55502 failed with the following error: Connection refused", "08001"));
        assertFalse(down.connectionLost());
        Failure d = Failure.of(down);
        assertEquals(Failure.Kind.UNAVAILABLE, d.kind());
        assertEquals(5, d.retryAfterSeconds());
        assertTrue(d.message().contains("could not be reached"), d.message());
    }

    @Test
    void bothInputErrorTypesAreBadInputAndATakenNameIsAConflict() {
        assertEquals(new Failure(Failure.Kind.BAD_INPUT, "topic must not be empty", 0), Failure.of(new StoreRuleException("topic must not be empty")));
        assertEquals(new Failure(Failure.Kind.BAD_INPUT, "max must be at least 1, got 0", 0),
                Failure.of(new IllegalArgumentException("max must be at least 1, got 0")));
        assertEquals(409, Failure.of(new ApiKeyStore.KeyNameTakenException("ci")).kind().httpStatus());
        assertEquals(400, Failure.of(new StoreRuleException("x")).kind().httpStatus());
    }

    @Test
    void anUnknownPoolIsNotFoundAndEverythingElseIsInternal() {
        assertEquals(404, Failure.of(new UnknownPoolException("gone")).kind().httpStatus());
        Failure syntax = Failure.of(new DataAccessException("acme", new SQLException("syntax error", "42601")));
        assertEquals(Failure.Kind.INTERNAL, syntax.kind());
        assertEquals("database error in schema `acme`: syntax error", syntax.message());
        assertEquals(500, Failure.of(new IllegalStateException("a bug")).kind().httpStatus());
        assertEquals(0, Failure.of(new IllegalStateException("a bug")).retryAfterSeconds());
    }
}
