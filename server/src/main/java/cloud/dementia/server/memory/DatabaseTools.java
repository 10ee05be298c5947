package cloud.dementia.server.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.ReadOnlyQueries;
import cloud.dementia.db.store.SchemaCatalog;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.server.tools.InputSchema;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ProjectResolver;
import cloud.dementia.server.tools.ToolArgumentException;
import cloud.dementia.server.tools.ToolCall;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/** query_database and inspect_database. */
final class DatabaseTools {

    static final int MAX_ROWS = 100;
    static final Set<String> FORMATS = Set.of("table", "json", "csv", "markdown");
    static final Set<String> MODES = Set.of("overview", "schema", "contexts", "tables", "sessions", "archives");

    private final ProjectResolver resolver;
    private final ReadOnlyQueries queries;
    private final SchemaCatalog catalog;
    private final Contexts contexts;
    private final Sessions sessions;

    DatabaseTools(ProjectResolver resolver, ReadOnlyQueries queries, SchemaCatalog catalog, Contexts contexts, Sessions sessions) {
        this.resolver = resolver;
        this.queries = queries;
        this.catalog = catalog;
        this.contexts = contexts;
        this.sessions = sessions;
    }

    List<ToolSpec> specs() {
        return List.of(
                new ToolSpec("query_database", "Query the project database",
                        "Run one read-only SELECT on the project's own tables (sessions, context_locks, context_archives, memory_entries, "
                                + "audit_trail), at most " + MAX_ROWS + " rows and " + ReadOnlyQueries.MAX_BYTES / 1024 + " KiB (values cut at "
                                + ReadOnlyQueries.MAX_VALUE_CHARS + " characters), under the statement timeout. $1, $2 ... take values from params, "
                                + "bound by PostgreSQL: strings as text, whole numbers as bigint, other numbers as numeric, booleans, lists and objects as jsonb; cast for other types ($1::timestamptz).",
                        InputSchema.object().string("query", "One SELECT / WITH / VALUES / TABLE query", true)
                                .valueList("params", "Values for $1, $2 ... (a list)")
                                .choice("format", "Output format", "table", "table", "json", "csv", "markdown").project().build(),
                        true, false, this::query),
                new ToolSpec("inspect_database", "Inspect the project database",
                        "Look at the project's data without SQL: overview, schema, contexts, tables, sessions or archives.",
                        InputSchema.object().choice("mode", "What to show", "overview", "overview", "schema", "contexts", "tables",
                                        "sessions", "archives")
                                .string("filter_text", "Only rows whose name contains this text", false).project().build(),
                        true, false, this::inspect));
    }

    private ToolOutput query(ToolCall call) {
        String sql = call.string("query");
        String format = call.choice("format", FORMATS).orElse("table");
        List<Object> params = new ArrayList<>();
        call.raw("params").ifPresent(p -> {
            if (!p.isArray()) {
                throw new ToolArgumentException("params", "must be a list of values for $1, $2 ...");
            }
            for (JsonNode v : p) {
                params.add(v.isNull() ? null : v.isBoolean() ? v.booleanValue() : v.isNumber() ? v.numberValue() : v.isTextual() ? v.asText()
                        : new ReadOnlyQueries.JsonParam(Json.compact(v)));
            }
        });
        ProjectResolver.Resolved r = resolver.resolve(call);
        ReadOnlyQueries.Result result = queries.run(r.schema(), sql, params, MAX_ROWS);
        List<ObjectNode> rows = new ArrayList<>();
        result.rowsJson().forEach(j -> rows.add(row(j)));
        List<String> columns = columns(rows);
        ObjectNode structured = Json.object();
        structured.put("project", r.name());
        ArrayNode cols = structured.putArray("columns");
        columns.forEach(cols::add);
        ArrayNode data = structured.putArray("rows");
        rows.forEach(data::add);
        structured.put("row_count", rows.size());
        structured.put("truncated", result.truncated());
        if (result.truncated()) {
            structured.put("truncated_by", result.truncatedBy());
        }
        if (result.valuesCut()) {
            structured.put("values_cut", true);
        }
        if (format.equals("json")) {
            return ToolOutput.json(structured);
        }
        String text = switch (format) {
            case "csv" -> csv(columns, rows);
            case "markdown" -> markdown(columns, rows);
            default -> table(columns, rows);
        };
        if ("rows".equals(result.truncatedBy())) {
            text += "\n(only the first " + MAX_ROWS + " rows)";
        } else if ("bytes".equals(result.truncatedBy())) {
            text += "\n(only the first " + rows.size() + " rows: the result is limited to " + ReadOnlyQueries.MAX_BYTES + " bytes)";
        }
        if (result.valuesCut()) {
            text += "\n(values longer than " + ReadOnlyQueries.MAX_VALUE_CHARS + " characters are cut)";
        }
        return ToolOutput.text(text);
    }

    private ToolOutput inspect(ToolCall call) {
        String mode = call.choice("mode", MODES).orElse("overview");
        String filter = call.optionalString("filter_text").orElse("").toLowerCase(Locale.ROOT);
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("schema", r.schema());
        o.put("mode", mode);
        switch (mode) {
            case "schema" -> {
                ObjectNode tables = o.putObject("tables");
                for (SchemaCatalog.Column c : catalog.columns(r.schema())) {
                    if (c.table().toLowerCase(Locale.ROOT).contains(filter) || c.name().toLowerCase(Locale.ROOT).contains(filter)) {
                        ArrayNode cols = tables.has(c.table()) ? (ArrayNode) tables.get(c.table()) : tables.putArray(c.table());
                        cols.addObject().put("column", c.name()).put("type", c.type()).put("nullable", c.nullable());
                    }
                }
            }
            case "contexts" -> {
                ArrayNode list = o.putArray("contexts");
                contexts.labels(r.schema()).stream().filter(l -> l.label().toLowerCase(Locale.ROOT).contains(filter))
                        .forEach(l -> list.add(Views.label(l)));
            }
            case "sessions" -> {
                ArrayNode list = o.putArray("sessions");
                sessions.recent(r.schema(), 50).stream().filter(s -> s.id().toLowerCase(Locale.ROOT).contains(filter))
                        .forEach(s -> list.addObject().put("id", s.id()).put("started_at", s.startedAt().toString())
                                .put("last_active", s.lastActive().toString()).put("calls", s.calls()));
            }
            case "archives" -> {
                ArrayNode list = o.putArray("archives");
                catalog.archives(r.schema(), 100).stream().filter(a -> a[0].toLowerCase(Locale.ROOT).contains(filter))
                        .forEach(a -> list.addObject().put("topic", a[0]).put("version", a[1]).put("priority", a[2])
                                .put("reason", a[3]).put("archived_at", a[4]));
            }
            default -> {
                ArrayNode list = o.putArray("tables");
                for (SchemaCatalog.Table t : catalog.tables(r.schema())) {
                    if (t.name().toLowerCase(Locale.ROOT).contains(filter)) {
                        list.addObject().put("table", t.name()).put("rows", t.rows());
                    }
                }
                if (mode.equals("overview")) {
                    o.set("stats", Views.stats(sessions.stats(r.schema())));
                }
            }
        }
        return ToolOutput.json(o);
    }

    private static final ObjectReader ROW_VALUE = Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * One row as the database sent it, a JSON object in column order. A query may name two columns alike (a join's two
     * {@code id}s, {@code select 1 as a, 1 as a}), so its object can hold a key twice: every column is kept, the second
     * {@code id} as {@code id_2}, the third as {@code id_3} (skipping a name the query already uses).
     */
    static ObjectNode row(String json) {
        try (JsonParser p = Json.MAPPER.createParser(json)) {
            // the database wrote this JSON, and a key twice is a column name twice, not a smuggled request
            p.disable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalStateException("a query row is not a JSON object: " + json);
            }
            List<String> names = new ArrayList<>();
            List<JsonNode> values = new ArrayList<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                names.add(p.currentName());
                p.nextToken();
                values.add(ROW_VALUE.readTree(p));
            }
            Set<String> taken = new HashSet<>(names);
            Set<String> seen = new HashSet<>();
            ObjectNode row = Json.object();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                if (!seen.add(name)) {
                    int n = 2;
                    while (taken.contains(name + "_" + n)) {
                        n++;
                    }
                    name = name + "_" + n;
                    taken.add(name);
                }
                row.set(name, values.get(i));
            }
            return row;
        } catch (IOException e) {
            throw new UncheckedIOException("reading a query row: " + e.getMessage(), e);
        }
    }

    static List<String> columns(List<ObjectNode> rows) {
        Set<String> cols = new LinkedHashSet<>();
        for (ObjectNode row : rows) {
            Iterator<String> names = row.fieldNames();
            names.forEachRemaining(cols::add);
        }
        return List.copyOf(cols);
    }

    private static String cell(JsonNode v) {
        if (v == null || v.isNull()) {
            return "";
        }
        return v.isValueNode() ? v.asText() : Json.compact(v);
    }

    static String table(List<String> columns, List<ObjectNode> rows) {
        if (columns.isEmpty()) {
            return "(no rows)";
        }
        int[] width = new int[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            width[i] = columns.get(i).length();
            for (ObjectNode row : rows) {
                width[i] = Math.min(80, Math.max(width[i], cell(row.get(columns.get(i))).length()));
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, columns, width);
        for (int i = 0; i < columns.size(); i++) {
            sb.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
        }
        sb.append('\n');
        for (ObjectNode row : rows) {
            line(sb, columns.stream().map(c -> cell(row.get(c))).toList(), width);
        }
        sb.append("(").append(rows.size()).append(rows.size() == 1 ? " row)" : " rows)");
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells, int[] width) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i).replace('\n', ' ');
            if (c.length() > width[i]) {
                c = c.substring(0, width[i] - 1) + "…";
            }
            sb.append(i == 0 ? "" : " | ").append(c).append(" ".repeat(width[i] - c.length()));
        }
        sb.append('\n');
    }

    static String csv(List<String> columns, List<ObjectNode> rows) {
        StringBuilder sb = new StringBuilder(String.join(",", columns.stream().map(DatabaseTools::csvCell).toList())).append('\n');
        for (ObjectNode row : rows) {
            sb.append(String.join(",", columns.stream().map(c -> csvCell(cell(row.get(c)))).toList())).append('\n');
        }
        return sb.toString();
    }

    private static String csvCell(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String markdown(List<String> columns, List<ObjectNode> rows) {
        if (columns.isEmpty()) {
            return "_no rows_";
        }
        StringBuilder sb = new StringBuilder("| " + String.join(" | ", columns) + " |\n|");
        columns.forEach(c -> sb.append(" --- |"));
        sb.append('\n');
        for (ObjectNode row : rows) {
            sb.append("| ").append(String.join(" | ", columns.stream().map(c -> cell(row.get(c)).replace("|", "\\|").replace('\n', ' ')).toList()))
                    .append(" |\n");
        }
        return sb.toString();
    }
}
