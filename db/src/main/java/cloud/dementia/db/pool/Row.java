package cloud.dementia.db.pool;

import java.sql.Array;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;

import io.helidon.dbclient.DbRow;

/**
 * One row as DB Client read it, with the conversions the store needs (columns by position, from 1). DB Client reads
 * every column with {@code getObject}; these turn the driver's objects into the types the store's records hold.
 */
public final class Row {

    private final DbRow row;

    Row(DbRow row) {
        this.row = row;
    }

    /** @return the column's value as the driver gave it, or {@code null} */
    public Object object(int column) {
        return row.column(column).asOptional().orElse(null);
    }

    /** @return text, or {@code null}; any value's text (JSON of {@code jsonb}, a number's digits) */
    public String string(int column) {
        Object v = object(column);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        if (v instanceof org.postgresql.util.PGobject pg) {
            return pg.getValue();
        }
        return v.toString();
    }

    /** @return the number as an int (0 for SQL NULL) */
    public int integer(int column) {
        Object v = object(column);
        return v == null ? 0 : ((Number) v).intValue();
    }

    /** @return the number as a long (0 for SQL NULL) */
    public long longValue(int column) {
        Object v = object(column);
        return v == null ? 0 : ((Number) v).longValue();
    }

    /** @return the number as a double (0 for SQL NULL) */
    public double doubleValue(int column) {
        Object v = object(column);
        return v == null ? 0 : ((Number) v).doubleValue();
    }

    public boolean bool(int column) {
        Object v = object(column);
        return v != null && (Boolean) v;
    }

    /** @return the time, or {@code null} */
    public Instant instant(int column) {
        Object v = object(column);
        return switch (v) {
            case null -> null;
            case Timestamp t -> t.toInstant();
            case OffsetDateTime t -> t.toInstant();
            case Instant t -> t;
            default -> throw new IllegalStateException("column " + column + " is not a time: " + v.getClass().getName());
        };
    }

    /** @return a {@code bytea}, or {@code null} */
    public byte[] bytes(int column) {
        return (byte[]) object(column);
    }

    /** @return the elements of a {@code text[]} (empty for SQL NULL) */
    public List<String> strings(int column) {
        Object v = object(column);
        if (v == null) {
            return List.of();
        }
        try {
            return Arrays.stream((Object[]) ((Array) v).getArray()).map(String::valueOf).toList();
        } catch (SQLException e) {
            throw new IllegalStateException("column " + column + " is not a readable array: " + e.getMessage(), e);
        }
    }
}
