package cloud.dementia.db.store;

import java.time.Instant;
import java.util.List;

import cloud.dementia.db.pool.Row;

/**
 * One locked version of a context.
 *
 * @param id           row id
 * @param label        the topic it is locked under
 * @param version      {@code 1.0}, {@code 1.1}, ...
 * @param content      full text (empty when only the preview was read)
 * @param preview      about 500 characters
 * @param hash         first 16 hex characters of the content's SHA-256
 * @param keyConcepts  up to 10 key concepts
 * @param tags         tags
 * @param priority     always_check, important or reference
 * @param lockedAt     when it was locked
 * @param lastAccessed when it was last recalled, or null
 * @param accessCount  how often it was recalled
 * @param sessionId    the session that locked it
 */
public record Context(long id, String label, String version, String content, String preview, String hash, List<String> keyConcepts,
                      List<String> tags, String priority, Instant lockedAt, Instant lastAccessed, int accessCount, String sessionId) {

    /** Columns {@link #map} reads, in order. */
    static final String COLUMNS = "id, label, version, content, preview, content_hash, key_concepts, tags, priority, locked_at, "
            + "last_accessed, access_count, session_id";
    /** The same without the content (previews only). */
    static final String PREVIEW_COLUMNS = COLUMNS.replace("content, preview", "''::text AS content, preview");

    static Context map(Row r) {
        return new Context(r.longValue(1), r.string(2), r.string(3), r.string(4), r.string(5), r.string(6), r.strings(7), r.strings(8),
                r.string(9), r.instant(10), r.instant(11), r.integer(12), r.string(13));
    }
}
