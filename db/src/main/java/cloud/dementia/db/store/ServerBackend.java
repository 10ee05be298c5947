package cloud.dementia.db.store;

import java.time.Instant;

/**
 * One backend of a pool as PostgreSQL lists it in {@code pg_stat_activity}.
 *
 * @param pid              backend process id
 * @param state            {@code active}, {@code idle}, {@code idle in transaction}, ...
 * @param backendStart     when the connection was opened
 * @param transactionStart when its current transaction began, or {@code null} outside a transaction
 * @param stateChange      when its state last changed
 * @param waitEvent        what it waits on ({@code type:event}), or {@code null}
 * @param query            the start of its current or last statement
 */
public record ServerBackend(int pid, String state, Instant backendStart, Instant transactionStart, Instant stateChange,
                            String waitEvent, String query) {

    /** @return whether the server counts it as doing work: anything but {@code idle} */
    public boolean busy() {
        return !"idle".equals(state);
    }
}
