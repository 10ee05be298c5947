package cloud.dementia.db.pool;

import java.time.Duration;

/**
 * What the registry knows of the database from its own traffic, without a round trip of its own: the evidence a
 * readiness check uses while every connection is busy (asking would mean waiting in line behind the work).
 *
 * @param sinceLastAnswer  time since a unit of work last got an answer from the database (a result, or an error the
 *                         server itself raised), or {@code null} if none has yet
 * @param inFlight         units of work holding a connection now
 * @param youngestInFlight the most recently started of them, or {@code null} if none
 * @param saturated        every connection of the budget is taken, so a new unit would wait
 */
public record Liveness(Duration sinceLastAnswer, int inFlight, Duration youngestInFlight, boolean saturated) {

    /**
     * @param window        how recent an answer must be to count
     * @param statementTime how long a statement may run on a live database before it is cancelled (the statement
     *                      timeout), plus a margin: a unit in flight for longer than that is not evidence of anything
     * @return whether the traffic shows a live database: an answer within {@code window}, or work in flight that a
     *         live database would still be running
     */
    public boolean showsLiveDatabase(Duration window, Duration statementTime) {
        return (sinceLastAnswer != null && sinceLastAnswer.compareTo(window) <= 0)
                || (youngestInFlight != null && youngestInFlight.compareTo(statementTime) <= 0);
    }
}
