package cloud.dementia.server.importer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.DatabaseUrl;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;
import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.store.ContextText;
import cloud.dementia.db.store.Memory;
import cloud.dementia.db.store.ProjectTransfer;
import cloud.dementia.server.tools.Json;

/**
 * Imports one project of the original Python server (one PostgreSQL schema in its layout, see docs/tools.md, "Importing from
 * the original server") into a project here: its sessions, every version of every context, the archives and the
 * memory entries (handovers, progress). Times there are epoch seconds; priority and tags live in a JSON
 * {@code metadata} text; key concepts and tags are JSON array texts (or comma-separated). The rows become this
 * server's JSON Lines and go through {@link ProjectTransfer#importInto(String, java.util.Iterator)}, so the import is one transaction and
 * idempotent: running it twice adds nothing. Versions the original stored twice for one topic are kept once.
 */
public final class OriginalImporter {

    /** What the import did. */
    public record Report(Map<String, Integer> read, Map<String, Integer> added, Map<String, Integer> skipped, Map<String, Long> notCarried) {

        /** @return the report as lines for a terminal */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            for (String kind : read.keySet()) {
                sb.append(String.format("%-9s read %6d, added %6d, already there or duplicate %6d%n", kind, read.get(kind), added.getOrDefault(kind, 0),
                        skipped.getOrDefault(kind, 0)));
            }
            notCarried.forEach((table, rows) -> sb.append(String.format("%-22s %6d rows not carried (no such feature here)%n", table, rows)));
            return sb.toString();
        }
    }

    static final List<String> NOT_CARRIED = List.of("audit_trail", "file_semantic_model", "file_change_history", "query_results_cache", "todos",
            "decisions", "file_tags");
    private static final Pattern VERSION = Pattern.compile("v?(\\d+)\\.(\\d+)");

    private OriginalImporter() {
    }

    /**
     * @param target  this server's pools
     * @param fromUrl the original server's database (a JDBC URL or a {@code postgres://} URI)
     * @param schema  the original project's schema
     * @param project the project here to import into (created if needed, when the import commits)
     * @throws IllegalArgumentException a bad URL, an unknown schema or project name
     */
    public static Report run(PoolRegistry target, String fromUrl, String schema, String project) {
        ConnectionTarget from = DatabaseUrl.parse(fromUrl, "dementia-import-original");
        ProjectName.validate(project);
        Map<String, Integer> read = new LinkedHashMap<>();
        Map<String, Long> notCarried = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(from.jdbcUrl(), from.driverProperties())) {
            c.setReadOnly(true);
            if (!exists(c, schema, null)) {
                throw new IllegalArgumentException("no schema `" + schema + "` in " + from.describe());
            }
            String s = Tx.identifier(schema);
            read.put("session", 0);
            if (exists(c, schema, "sessions")) {
                for (JsonNode r : rows(c, "SELECT to_jsonb(t)::text FROM " + s + ".sessions t ORDER BY started_at, id")) {
                    ObjectNode o = Json.object().put("kind", "session").put("id", r.path("id").asText());
                    time(o, "started_at", r.get("started_at"));
                    time(o, "last_active", r.get("last_active"));
                    lines.add(Json.compact(o));
                    read.merge("session", 1, Integer::sum);
                }
            }
            read.put("context", 0);
            if (exists(c, schema, "context_locks")) {
                Map<String, Integer> nextMinor = new HashMap<>();
                for (JsonNode r : rows(c, "SELECT to_jsonb(t)::text FROM " + s + ".context_locks t ORDER BY label, locked_at, id")) {
                    lines.add(Json.compact(context(r, "context", nextMinor)));
                    read.merge("context", 1, Integer::sum);
                }
            }
            read.put("archive", 0);
            if (exists(c, schema, "context_archives")) {
                Map<String, Integer> nextMinor = new HashMap<>();
                for (JsonNode r : rows(c, "SELECT to_jsonb(t)::text FROM " + s + ".context_archives t ORDER BY deleted_at, id")) {
                    lines.add(Json.compact(context(r, "archive", nextMinor)));
                    read.merge("archive", 1, Integer::sum);
                }
            }
            read.put("entry", 0);
            if (exists(c, schema, "memory_entries")) {
                for (JsonNode r : rows(c, "SELECT to_jsonb(t)::text FROM " + s + ".memory_entries t ORDER BY \"timestamp\", id")) {
                    ObjectNode o = Json.object().put("kind", "entry").put("category", r.path("category").asText("note"))
                            .put("content", r.path("content").asText(""));
                    o.set("metadata", object(r.get("metadata")));
                    text(o, "session_id", r.get("session_id"));
                    time(o, "created_at", r.get("timestamp"));
                    lines.add(Json.compact(o));
                    read.merge("entry", 1, Integer::sum);
                }
            }
            for (String table : NOT_CARRIED) {
                if (exists(c, schema, table)) {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + s + "." + Tx.identifier(table))) {
                        rs.next();
                        notCarried.put(table, rs.getLong(1));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalArgumentException("reading the original database (" + from.describe() + "): " + e.getMessage(), e);
        }
        ProjectTransfer.Imported imported = Memory.withoutModel(target).transfer().importInto(project, lines.iterator());
        return new Report(read, imported.added(), imported.skipped(), notCarried);
    }

    /** A context version (or an archived one) as this server's line. */
    private static ObjectNode context(JsonNode r, String kind, Map<String, Integer> nextMinor) {
        String label = r.path("label").asText();
        String content = r.path("content").asText("");
        JsonNode metadata = object(r.get("metadata"));
        String version;
        int minor;
        Matcher m = VERSION.matcher(r.path("version").asText(""));
        if (m.matches()) {
            int major = Integer.parseInt(m.group(1));
            minor = (major - 1) * 1000 + Integer.parseInt(m.group(2));
            version = major == 1 ? "1." + m.group(2) : "1." + minor;
        } else {
            minor = nextMinor.getOrDefault(label, 0);
            version = "1." + minor;
        }
        nextMinor.merge(label, minor + 1, Math::max);
        String priority = metadata.path("priority").asText("");
        if (!ContextText.PRIORITIES.contains(priority)) {
            priority = ContextText.detectPriority(content);
        }
        List<String> tags = list(r.get("tags"));
        if (tags.isEmpty()) {
            tags = list(metadata.get("tags"));
        }
        ObjectNode o = Json.object().put("kind", kind).put("label", label).put("version", version).put("content", content)
                .put("content_hash", ContextText.hash(content)).put("preview", r.path("preview").asText("").isBlank() ? ContextText.preview(content)
                        : r.path("preview").asText()).put("priority", priority);
        ArrayNode concepts = o.putArray("key_concepts");
        List<String> given = list(r.get("key_concepts"));
        (given.isEmpty() ? ContextText.keyConcepts(content) : given).forEach(concepts::add);
        ArrayNode tagArray = o.putArray("tags");
        tags.forEach(tagArray::add);
        if (kind.equals("context")) {
            o.put("minor", minor);
            text(o, "session_id", r.get("session_id"));
            time(o, "locked_at", r.get("locked_at"));
            time(o, "last_accessed", r.get("last_accessed"));
            o.put("access_count", r.path("access_count").asInt(0));
        } else {
            o.put("original_id", r.path("original_id").asLong(0));
            time(o, "archived_at", r.get("deleted_at"));
            time(o, "locked_at", r.get("deleted_at"));
            o.put("reason", r.path("delete_reason").asText("").isBlank() ? "imported from the original server" : r.path("delete_reason").asText());
        }
        return o;
    }

    /** A JSON value stored as text (or as JSON): an object, or {@code {"raw": text}} when it is not one. */
    private static JsonNode object(JsonNode v) {
        if (v == null || v.isNull()) {
            return Json.object();
        }
        if (v.isObject()) {
            return v;
        }
        try {
            JsonNode parsed = Json.parse(v.asText());
            return parsed.isObject() ? parsed : Json.object().put("raw", v.asText());
        } catch (IllegalArgumentException e) {
            return Json.object().put("raw", v.asText());
        }
    }

    /** A list stored as a JSON array, a JSON array text, or comma-separated text. */
    private static List<String> list(JsonNode v) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        JsonNode array = v;
        if (v.isTextual()) {
            String t = v.asText().strip();
            if (t.startsWith("[")) {
                try {
                    array = Json.parse(t);
                } catch (IllegalArgumentException e) {
                    array = null;
                }
            } else {
                array = null;
                for (String part : t.split(",")) {
                    if (!part.isBlank()) {
                        out.add(part.strip());
                    }
                }
            }
        }
        if (array != null && array.isArray()) {
            array.forEach(n -> {
                if (!n.asText().isBlank()) {
                    out.add(n.asText().strip());
                }
            });
        }
        return out;
    }

    /** An epoch-seconds number (the original's times) as an ISO instant. */
    private static void time(ObjectNode o, String field, JsonNode epoch) {
        if (epoch != null && epoch.isNumber()) {
            o.put(field, Instant.ofEpochMilli(Math.round(epoch.asDouble() * 1000)).toString());
        } else if (epoch != null && epoch.isTextual() && !epoch.asText().isBlank()) {
            o.put(field, epoch.asText());
        }
    }

    private static void text(ObjectNode o, String field, JsonNode v) {
        if (v != null && !v.isNull()) {
            o.put(field, v.asText());
        }
    }

    private static boolean exists(Connection c, String schema, String table) throws SQLException {
        String sql = table == null ? "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?"
                : "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?";
        try (PreparedStatement st = c.prepareStatement(sql)) {
            st.setString(1, schema);
            if (table != null) {
                st.setString(2, table);
            }
            try (ResultSet rs = st.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static List<JsonNode> rows(Connection c, String sql) throws SQLException {
        List<JsonNode> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(Json.parse(rs.getString(1)));
            }
        }
        return out;
    }
}
