package cloud.dementia.db.pool;

import java.time.Duration;
import java.time.Instant;

/**
 * A checkout held longer than the leak threshold.
 *
 * @param id       checkout number
 * @param schema   schema of the pool
 * @param thread   name of the thread that holds (held) the connection
 * @param takenAt  when the connection was taken
 * @param held     how long it has been (or was) held
 * @param returned whether the connection has since been returned
 * @param stack    the holding thread's stack when the checkout crossed the threshold, one frame per line: where it was
 *                 stuck then
 */
public record LeakReport(long id, String schema, String thread, Instant takenAt, Duration held, boolean returned, String stack) {
}
