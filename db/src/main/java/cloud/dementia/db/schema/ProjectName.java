package cloud.dementia.db.schema;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A project's name and the schema it lives in. The one place that validates a project name.
 * <p>
 * Names are 1–63 characters of letters, digits, {@code _}, {@code -} and space. The schema is derived
 * deterministically: {@code proj_} + the name lower-cased with every run of other characters turned into one
 * {@code _}; names too long for PostgreSQL's 63-byte identifiers are cut and given a hash suffix. The {@code proj_}
 * prefix means no project can ever reach {@code public}, {@code pg_*}, {@code information_schema} or the control
 * schema. Two names that map to the same schema (say {@code My App} and {@code my_app}) are told apart by the project
 * registry, which refuses the second one clearly.
 *
 * @param name   the name as given
 * @param schema the schema it maps to
 */
public record ProjectName(String name, String schema) {

    /** The project used when a call names none and its session has none. */
    public static final String DEFAULT = "default";
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_\\- ]{1,63}");
    private static final String PREFIX = "proj_";
    private static final int MAX_SCHEMA = 63;

    /**
     * @param name a project name
     * @return the validated name with its schema
     * @throws InvalidProjectNameException stating the rule
     */
    public static ProjectName of(String name) {
        if (name == null || !VALID.matcher(name).matches() || name.isBlank()) {
            throw new InvalidProjectNameException(name);
        }
        String base = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        if (base.isEmpty()) {
            base = "x" + hash(name).substring(0, 8);
        }
        String schema = PREFIX + base;
        if (schema.length() > MAX_SCHEMA) {
            String h = hash(name).substring(0, 8);
            schema = schema.substring(0, MAX_SCHEMA - h.length() - 1) + "_" + h;
        }
        return new ProjectName(name, schema);
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
