package cloud.dementia.db.schema;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A project's name and the schema it lives in. The one place that validates a project name and names schemas.
 * <p>
 * Names are 1–63 characters of letters, digits, {@code _}, {@code -} and space. A new project's schema is opaque:
 * {@code proj_} followed by 24 hex digits of an HMAC-SHA256, keyed with the installation's secret (in the control
 * schema, which no reader role may read), of the name's normalised form (lower-cased, every run of other characters
 * one {@code _}). So a schema name tells whoever can list the catalogs ({@code pg_namespace}) nothing of the project's
 * name, and cannot be guessed from a name; two names with the same normalised form (say {@code My App} and
 * {@code my_app}) map to one schema, and the project registry refuses the second clearly. Projects created before
 * opaque names keep the schema they were registered with ({@code proj_} + the normalised name). The {@code proj_}
 * prefix means no project can ever reach {@code public}, {@code pg_*}, {@code information_schema} or the control schema.
 *
 * @param name   the name as given
 * @param schema the schema it lives in
 */
public record ProjectName(String name, String schema) {

    /** The project used when a call names none and its session has none. */
    public static final String DEFAULT = "default";
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_\\- ]{1,63}");
    private static final String PREFIX = "proj_";

    /**
     * @param name a project name
     * @return the name, when it keeps the rule
     * @throws InvalidProjectNameException stating the rule
     */
    public static String validate(String name) {
        if (name == null || !VALID.matcher(name).matches() || name.isBlank()) {
            throw new InvalidProjectNameException(name);
        }
        return name;
    }

    /**
     * @return the name lower-cased with every run of characters other than letters and digits one {@code _}, no
     *         {@code _} at either end; names that differ only there are one project; empty for a name of punctuation
     */
    public static String normalised(String name) {
        return validate(name).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
    }

    /** The same as {@link #normalised}, in SQL, over a text column or expression. */
    public static String normalisedSql(String column) {
        return "trim(both '_' from regexp_replace(lower(" + column + "), '[^a-z0-9]+', '_', 'g'))";
    }

    /**
     * @param name a project name
     * @param key  the installation's schema key
     * @return the project with its opaque schema, the one a new project of that name gets
     */
    public static ProjectName opaque(String name, byte[] key) {
        String normal = normalised(name);
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            // a name of punctuation only has no normalised form: it is its own
            byte[] h = mac.doFinal((normal.isEmpty() ? "=" + name : normal).getBytes(StandardCharsets.UTF_8));
            return new ProjectName(name, PREFIX + HexFormat.of().formatHex(h).substring(0, 24));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return whether the schema name is one a project could have */
    public static boolean isProjectSchema(String schema) {
        return schema.startsWith(PREFIX);
    }

    /**
     * Roles are cluster-wide while schemas belong to one database, so the role that {@code query_database} runs as is
     * named from both.
     *
     * @param database the database the schema lives in
     * @return the read-only role of this project in that database
     */
    public String readerRole(String database) {
        return "dmc_ro_" + hash(database + "/" + schema).substring(0, 24);
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A name that breaks the rule. */
    public static final class InvalidProjectNameException extends IllegalArgumentException {
        public InvalidProjectNameException(String name) {
            super("project `" + name + "` is not a valid name: use 1–63 letters, digits, `_`, `-` or spaces");
        }
    }
}
