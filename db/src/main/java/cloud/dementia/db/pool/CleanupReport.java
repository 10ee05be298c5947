package cloud.dementia.db.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one idle-cleanup run did.
 *
 * @param startedAt         when it ran
 * @param trigger           {@code schedule} or who ran it on demand
 * @param idleMax           the idle age it applied
 * @param connectionsClosed idle connections it closed
 * @param poolsRetired      pools it retired (their schemas)
 * @param duration          how long it took
 */
public record CleanupReport(Instant startedAt, String trigger, Duration idleMax, int connectionsClosed,
                            List<String> poolsRetired, Duration duration) {
}
