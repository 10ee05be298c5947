package cloud.dementia.db.store;

import java.time.Instant;
import java.util.List;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/**
 * The operators' audit log in the control schema ({@code admin_audit}): every console or {@code /admin/api} action
 * with who, when, what, and the values before and after. It survives restarts and is shared by every replica.
 */
public final class AdminAudit {

    /** Most entries one read returns. */
    public static final int MAX_READ = 1000;

    /**
     * One recorded action.
     *
     * @param id     ascending number
     * @param at     when it was recorded
     * @param actor  who did it (user, channel, address)
     * @param action what was done ({@code resize}, {@code drain}, ...)
     * @param target what it was done to (a schema), or {@code null}
     * @param before JSON of the values before, or {@code null}
     * @param after  JSON of the values after, or {@code null}
     */
    public record Entry(long id, Instant at, String actor, String action, String target, String before, String after) {
    }

    private final PoolRegistry registry;

    public AdminAudit(PoolRegistry registry) {
        this.registry = registry;
    }

    /**
     * Records an action.
     *
     * @param before JSON text (or {@code null})
     * @param after  JSON text (or {@code null})
     * @return the stored entry
     */
    public Entry record(String actor, String action, String target, String before, String after) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "INSERT INTO {s}.admin_audit (actor, action, target, before, after) VALUES (?, ?, ?, ?::jsonb, ?::jsonb) "
                        + "RETURNING id, at, actor, action, target, before::text, after::text",
                AdminAudit::entry, actor, action, target, before, after).orElseThrow());
    }

    /**
     * @param limit    most entries to return (at most {@link #MAX_READ})
     * @param beforeId only entries older than this id ({@code Long.MAX_VALUE}: the newest)
     * @return entries, newest first
     */
    public List<Entry> recent(int limit, long beforeId) {
        int n = Math.max(1, Math.min(limit, MAX_READ));
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query(
                "SELECT id, at, actor, action, target, before::text, after::text FROM {s}.admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?",
                AdminAudit::entry, beforeId, n));
    }

    /** @return the newest entries about one target, newest first */
    public List<Entry> recentFor(String target, int limit) {
        int n = Math.max(1, Math.min(limit, MAX_READ));
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query(
                "SELECT id, at, actor, action, target, before::text, after::text FROM {s}.admin_audit WHERE target = ? ORDER BY id DESC LIMIT ?",
                AdminAudit::entry, target, n));
    }

    private static Entry entry(cloud.dementia.db.pool.Row r) {
        return new Entry(r.longValue(1), r.instant(2), r.string(3), r.string(4), r.string(5), r.string(6), r.string(7));
    }
}
