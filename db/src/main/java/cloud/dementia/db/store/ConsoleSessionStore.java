package cloud.dementia.db.store;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/**
 * Console sessions in the control schema, so every replica knows every login and a restart signs nobody out. Rows are
 * keyed by a hash of the session id; times come from the caller's clock, which decides expiry.
 */
public final class ConsoleSessionStore {

    /** A stored session. */
    public record Row(String key, String user, String csrf, Instant createdAt, Instant lastSeen) {
    }

    /** A one-line message for the next page. */
    public record Notice(boolean ok, String text) {
    }

    private final PoolRegistry registry;

    public ConsoleSessionStore(PoolRegistry registry) {
        this.registry = registry;
    }

    public void create(Row row) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "INSERT INTO {s}.console_sessions (key, user_name, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                row.key(), row.user(), row.csrf(), utc(row.createdAt()), utc(row.lastSeen())));
    }

    /**
     * Marks a live session used at {@code now} (one statement), unless it was last seen before {@code idleSince} or
     * created before {@code bornSince}: then it has ended and is deleted.
     *
     * @return the session as it is now, if it is live
     */
    public Optional<Row> use(String key, Instant now, Instant idleSince, Instant bornSince) {
        Optional<Row> live = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "UPDATE {s}.console_sessions SET last_seen = ? WHERE key = ? AND last_seen >= ? AND created_at >= ? "
                        + "RETURNING key, user_name, csrf, created_at, last_seen",
                r -> new Row(r.string(1), r.string(2), r.string(3), r.instant(4), r.instant(5)),
                utc(now), key, utc(idleSince), utc(bornSince)));
        if (live.isEmpty()) {
            end(key);
        }
        return live;
    }

    public void end(String key) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update("DELETE FROM {s}.console_sessions WHERE key = ?", key));
    }

    /**
     * Deletes the sessions that have ended, then all but the {@code keep} most recently used.
     *
     * @return how many were deleted
     */
    public long purge(Instant idleSince, Instant bornSince, int keep) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "DELETE FROM {s}.console_sessions WHERE last_seen < ? OR created_at < ? OR key IN ("
                        + "SELECT key FROM {s}.console_sessions ORDER BY last_seen DESC OFFSET ?)",
                utc(idleSince), utc(bornSince), keep));
    }

    public int size() {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.queryOne("SELECT count(*)::int FROM {s}.console_sessions", r -> r.integer(1)).orElse(0));
    }

    public void notice(String key, Notice notice) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "UPDATE {s}.console_sessions SET notice_ok = ?, notice_text = ? WHERE key = ?", notice.ok(), notice.text(), key));
    }

    /** @return the pending notice, once (whichever replica asks first takes it) */
    public Optional<Notice> takeNotice(String key) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "UPDATE {s}.console_sessions s SET notice_ok = NULL, notice_text = NULL FROM "
                        + "(SELECT key, notice_ok, notice_text FROM {s}.console_sessions WHERE key = ? AND notice_text IS NOT NULL FOR UPDATE) old "
                        + "WHERE s.key = old.key RETURNING old.notice_ok, old.notice_text",
                r -> new Notice(r.bool(1), r.string(2)), key));
    }

    /** Keeps an encrypted secret for the next page. */
    public void reveal(String key, byte[] sealed) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "UPDATE {s}.console_sessions SET revealed = ? WHERE key = ?", sealed, key));
    }

    /** @return the sealed secret, once */
    public Optional<byte[]> takeRevealed(String key) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "UPDATE {s}.console_sessions s SET revealed = NULL FROM "
                        + "(SELECT key, revealed FROM {s}.console_sessions WHERE key = ? AND revealed IS NOT NULL FOR UPDATE) old "
                        + "WHERE s.key = old.key RETURNING old.revealed",
                r -> r.bytes(1), key));
    }

    private static OffsetDateTime utc(Instant at) {
        return at.atOffset(ZoneOffset.UTC);
    }
}
