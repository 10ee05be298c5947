package cloud.dementia.db.store;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

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

    static Context map(ResultSet r) throws SQLException {
        Timestamp accessed = r.getTimestamp(11);
        return new Context(r.getLong(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5), r.getString(6),
                strings(r.getArray(7)), strings(r.getArray(8)), r.getString(9), r.getTimestamp(10).toInstant(),
                accessed == null ? null : accessed.toInstant(), r.getInt(12), r.getString(13));
    }

    static List<String> strings(Array array) throws SQLException {
        if (array == null) {
            return List.of();
        }
        return Arrays.stream((Object[]) array.getArray()).map(String::valueOf).toList();
    }
}
