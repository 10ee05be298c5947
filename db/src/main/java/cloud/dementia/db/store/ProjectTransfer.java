package cloud.dementia.db.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;
import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;

/**
 * A project's data as JSON Lines, out and in: a header line, then its sessions, every version of every context, the
 * archives and the memory entries (handovers, progress notes), one JSON object per line with a {@code kind}. Import
 * is one transaction (all or nothing) and idempotent: what is there already (a session id, a context's topic and
 * version, an identical archive or entry) is skipped, so importing twice adds nothing. Derived columns (the search
 * vector) are computed again; embeddings are filled in by the first search that meets them.
 * <p>
 * An import reads its lines as they come (a body of any size is never held whole) and checks each one here — its
 * kind, the header's format, every field's type — so a bad line is refused naming its number and the field before
 * PostgreSQL sees it. Lines go to PostgreSQL in batches of {@value #BATCH}, a few round trips per batch.
 */
public final class ProjectTransfer {

    /** The format this writes and reads. */
    public static final int FORMAT = 1;

    /** Lines of one kind sent together: large enough that round trips stop mattering, small enough to hold. */
    static final int BATCH = 500;

    private static final String HEADER = "dementia-project";

    /** What an import did, by kind: added and skipped. */
    public record Imported(Map<String, Integer> added, Map<String, Integer> skipped) {
    }

    private static final String[][] EXPORTS = {
            {"session", "SELECT (jsonb_build_object('kind', 'session') || to_jsonb(t))::text FROM {s}.sessions t ORDER BY started_at, id"},
            {"context", "SELECT (jsonb_build_object('kind', 'context') || (to_jsonb(t) - 'id' - 'search' - 'embedding' - 'topic' - 'is_latest' - 'embedded_gen'))::text "
                    + "FROM {s}.context_locks t ORDER BY label, minor"},
            {"archive", "SELECT (jsonb_build_object('kind', 'archive') || (to_jsonb(t) - 'id' - 'topic'))::text FROM {s}.context_archives t "
                    + "ORDER BY archived_at, label, version"},
            {"entry", "SELECT (jsonb_build_object('kind', 'entry') || (to_jsonb(t) - 'id'))::text FROM {s}.memory_entries t ORDER BY created_at, id"}};

    /** How a field is checked before its line is sent. */
    private enum Type {
        TEXT("a string"), WHOLE("a whole number"), BIG_WHOLE("a whole number"), TEXTS("a list of strings"), TIME("a timestamp string"),
        ANY("any JSON value");

        final String expected;

        Type(String expected) {
            this.expected = expected;
        }
    }

    /** A field of a line; a required one must be present and not {@code null}. */
    private record Field(String name, Type type, boolean required) {
    }

    /** A kind of line: its INSERT (the line is its one parameter) and its fields. */
    private record Kind(String name, String sql, List<Field> fields) {
    }

    private static Field required(String name, Type type) {
        return new Field(name, type, true);
    }

    private static Field optional(String name, Type type) {
        return new Field(name, type, false);
    }

    private static final Map<String, Kind> KINDS = Map.of(
            "session", new Kind("session", "INSERT INTO {s}.sessions (id, started_at, last_active, calls, tools_used) "
                    + "SELECT r.id, coalesce(r.started_at, now()), coalesce(r.last_active, now()), coalesce(r.calls, 0), "
                    // counts by tool: an object or nothing (an export from before they were kept has none)
                    + "CASE WHEN jsonb_typeof(r.tools_used) = 'object' THEN r.tools_used ELSE '{}' END "
                    + "FROM jsonb_populate_record(null::{s}.sessions, ?::jsonb) r ON CONFLICT (id) DO NOTHING",
                    List.of(required("id", Type.TEXT), optional("started_at", Type.TIME), optional("last_active", Type.TIME),
                            optional("calls", Type.WHOLE))),
            "context", new Kind("context", "INSERT INTO {s}.context_locks (label, version, minor, content, content_hash, preview, key_concepts, tags, priority, "
                    + "session_id, locked_at, last_accessed, access_count, search) "
                    + "SELECT r.label, r.version, r.minor, r.content, r.content_hash, r.preview, coalesce(r.key_concepts, '{}'), "
                    + "coalesce(r.tags, '{}'), r.priority, r.session_id, coalesce(r.locked_at, now()), r.last_accessed, coalesce(r.access_count, 0), "
                    + "setweight(to_tsvector('english', replace(r.label, '_', ' ')), 'A') || setweight(to_tsvector('english', "
                    + "array_to_string(coalesce(r.key_concepts, '{}'), ' ') || ' ' || array_to_string(coalesce(r.tags, '{}'), ' ')), 'B') "
                    + "|| setweight(to_tsvector('english', r.content), 'C') "
                    + "FROM jsonb_populate_record(null::{s}.context_locks, ?::jsonb) r "
                    + "ON CONFLICT ON CONSTRAINT context_locks_label_version DO NOTHING",
                    List.of(required("label", Type.TEXT), required("version", Type.TEXT), required("minor", Type.WHOLE),
                            required("content", Type.TEXT), required("content_hash", Type.TEXT), required("preview", Type.TEXT),
                            optional("key_concepts", Type.TEXTS), optional("tags", Type.TEXTS), required("priority", Type.TEXT),
                            optional("session_id", Type.TEXT), optional("locked_at", Type.TIME), optional("last_accessed", Type.TIME),
                            optional("access_count", Type.WHOLE))),
            "archive", new Kind("archive", "INSERT INTO {s}.context_archives (original_id, label, version, content, content_hash, preview, key_concepts, tags, "
                    + "priority, locked_at, access_count, archived_at, reason) "
                    + "SELECT r.original_id, r.label, r.version, r.content, r.content_hash, r.preview, coalesce(r.key_concepts, '{}'), "
                    + "coalesce(r.tags, '{}'), r.priority, r.locked_at, coalesce(r.access_count, 0), coalesce(r.archived_at, now()), r.reason "
                    + "FROM jsonb_populate_record(null::{s}.context_archives, ?::jsonb) r",
                    List.of(required("original_id", Type.BIG_WHOLE), required("label", Type.TEXT), required("version", Type.TEXT),
                            required("content", Type.TEXT), required("content_hash", Type.TEXT), required("preview", Type.TEXT),
                            optional("key_concepts", Type.TEXTS), optional("tags", Type.TEXTS), required("priority", Type.TEXT),
                            required("locked_at", Type.TIME), optional("access_count", Type.WHOLE), optional("archived_at", Type.TIME),
                            required("reason", Type.TEXT))),
            "entry", new Kind("entry", "INSERT INTO {s}.memory_entries (category, content, metadata, session_id, created_at) "
                    + "SELECT r.category, r.content, coalesce(r.metadata, '{}'), r.session_id, coalesce(r.created_at, now()) "
                    + "FROM jsonb_populate_record(null::{s}.memory_entries, ?::jsonb) r",
                    List.of(required("category", Type.TEXT), required("content", Type.TEXT), optional("metadata", Type.ANY),
                            optional("session_id", Type.TEXT), optional("created_at", Type.TIME))));

    private static final Pattern BATCH_ENTRY = Pattern.compile("^Batch entry (\\d+) ");

    private static final List<String> ORDER = List.of("session", "context", "archive", "entry");
    private static final Set<String> PRIORITIES = Set.of("always_check", "important", "reference");

    /** A key given twice in a line would be read differently by PostgreSQL (the last wins) than meant: refused. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final PoolRegistry registry;
    private final Projects projects;
    private final java.util.function.ObjIntConsumer<String> imported;
    private final Consumer<String> beforeExport;

    /**
     * @param registry     the pools
     * @param projects     the project registry an import creates its project in
     * @param imported     told the schema after an import committed (its versions have no vector yet)
     * @param beforeExport told the schema before an export reads it (to write what is kept in memory, such as the
     *                     sessions' counted calls)
     */
    public ProjectTransfer(PoolRegistry registry, Projects projects, java.util.function.ObjIntConsumer<String> imported,
                           Consumer<String> beforeExport) {
        this.registry = registry;
        this.projects = projects;
        this.imported = imported;
        this.beforeExport = beforeExport;
    }

    /**
     * Writes the project's lines, in one read-only transaction (a consistent picture), header first.
     *
     * @param project the project's name, for the header
     */
    public void export(String schema, String project, Consumer<String> lines) {
        beforeExport.accept(schema);
        registry.inReadOnlyTransaction(schema, tx -> {
            lines.accept(tx.queryOne("SELECT jsonb_build_object('kind', 'dementia-project', 'format', ?::int, 'project', ?::text, "
                    + "'exported_at', now())::text", r -> r.string(1), FORMAT, project).orElseThrow());
            for (String[] export : EXPORTS) {
                tx.query(export[1], r -> r.string(1)).forEach(lines);
            }
            return null;
        });
    }

    /**
     * Reads JSON Lines in UTF-8 from a stream into the project, as they arrive, in one transaction.
     *
     * @see #importInto(String, Iterator)
     */
    public Imported importInto(String project, InputStream jsonl) {
        return importInto(project, new StreamLines(jsonl));
    }

    /**
     * Reads lines into the project, in one transaction. The project is created if it does not exist, and then only
     * if the import commits: a refused or interrupted import leaves no project behind ({@link Projects#openForImport}).
     * The first line is checked before anything is created, so a file of another format creates nothing.
     *
     * @param project the project's name
     * @throws StoreRuleException naming the line and the field when one is not a known object of this format (nothing
     *                            is stored)
     * @throws ProjectName.InvalidProjectNameException when the name breaks the rule (nothing is read)
     * @throws Projects.ProjectNameTakenException when another name owns the project's schema
     */
    public Imported importInto(String project, Iterator<String> lines) {
        return importInto(project, new Lines() {
            @Override
            String read() {
                return lines.hasNext() ? lines.next() : null;
            }
        });
    }

    private Imported importInto(String project, Lines lines) {
        ProjectName.validate(project);
        Line first = lines.next();
        Projects.ImportTarget target = projects.openForImport(project);
        String schema = target.project().schema();
        Imported done = registry.inTransaction(schema, tx -> {
            // an import adds versions out of order: it is the project's only writer until it has settled the latest ones
            Contexts.ownProject(tx);
            Batch batch = new Batch(tx);
            for (Line line = first; line != null; line = lines.next()) {
                batch.add(line);
            }
            batch.flush();
            afterLines(tx, batch.labelsAdded);
            if (!target.registered()) {
                Projects.registerIn(tx, target.project());
            }
            return new Imported(batch.added, batch.skipped);
        });
        if (!target.registered()) {
            projects.imported(target.project());
        }
        // the planner's statistics as they are now, not as they were before thousands of rows came in
        registry.inStatement(schema, tx -> tx.update("ANALYZE {s}.context_locks"));
        imported.accept(schema, done.added().getOrDefault("context", 0));
        return done;
    }

    /**
     * Runs once every line is in, inside the import's transaction, before it commits. What is derived per label from
     * all of its versions (which version is the latest) is brought up to date here, once, for exactly the labels this
     * import added versions to, rather than line by line as the versions arrive in any order.
     *
     * @param labels the labels of the contexts this import added (not those it skipped as already there)
     */
    private static void afterLines(Tx tx, Set<String> labels) throws SQLException {
        Contexts.settleLatest(tx, labels);
    }

    /**
     * Lines split on {@code \n} (a {@code \r} before it dropped) and each decoded on its own, strictly: invalid UTF-8
     * is refused naming its line, never replaced or blamed on a line before it.
     */
    private static final class StreamLines extends Lines {
        private final InputStream in;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final byte[] chunk = new byte[1 << 16];
        private int at;
        private int end;
        private byte[] line = new byte[1 << 12];
        private int length;

        StreamLines(InputStream in) {
            this.in = in;
        }

        @Override
        String read() {
            length = 0;
            boolean any = false;
            while (true) {
                if (at == end && !fill()) {
                    if (!any) {
                        return null;
                    }
                    break;
                }
                any = true;
                int start = at;
                while (at < end && chunk[at] != '\n') {
                    at++;
                }
                append(start, at - start);
                if (at < end) {
                    at++; // the newline
                    break;
                }
            }
            int size = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
            String text;
            try {
                text = utf8.decode(ByteBuffer.wrap(line, 0, size)).toString();
            } catch (CharacterCodingException e) {
                throw new StoreRuleException("line " + (number + 1) + " is not valid UTF-8: save the file as UTF-8 (nothing was imported)");
            }
            // a byte order mark some editors write first is not part of the JSON
            return number == 0 && text.startsWith("\uFEFF") ? text.substring(1) : text;
        }

        private boolean fill() {
            try {
                int n = in.read(chunk);
                at = 0;
                end = Math.max(n, 0);
                return n > 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void append(int from, int count) {
            if (length + count > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, length + count));
            }
            System.arraycopy(chunk, from, line, length, count);
            length += count;
        }
    }

    /** A line read, checked and numbered; {@code kind} is null for the header (which is checked and passed over). */
    private record Line(int number, String text, Kind kind, JsonNode json) {
    }

    /** The lines of an import, numbered from 1, read and checked one at a time; blank lines are passed over. */
    private abstract static class Lines {
        int number;

        /** @return the next raw line, or null at the end */
        abstract String read();

        /** @return the next line that is not blank, checked (a header is checked and passed over), or null at the end */
        Line next() {
            while (true) {
                String text = read();
                if (text == null) {
                    return null;
                }
                number++;
                if (text.isBlank()) {
                    continue;
                }
                Line line = check(number, text);
                if (line.kind() != null) {
                    return line;
                }
            }
        }
    }

    /**
     * @return the line parsed and checked: its kind (null for a header of this format) and fields
     * @throws StoreRuleException naming the line, and the field when one is at fault
     */
    private static Line check(int number, String text) {
        JsonNode json;
        try {
            json = JSON.readTree(text);
        } catch (JsonParseException e) {
            throw refused(number, null, "is not valid JSON: " + e.getOriginalMessage() + " (column " + e.getLocation().getColumnNr() + ")");
        } catch (JsonProcessingException e) {
            throw refused(number, null, "is not valid JSON: " + e.getOriginalMessage());
        }
        if (json == null || !json.isObject()) {
            throw refused(number, null, "is not a JSON object: each line is one object with a `kind`");
        }
        storable(number, "", json);
        JsonNode kindNode = json.get("kind");
        if (kindNode == null || !kindNode.isTextual()) {
            throw refused(number, null, "field `kind` must be a string: " + HEADER + ", " + String.join(", ", ORDER)
                    + (kindNode == null ? " (it is missing)" : " (got " + shown(kindNode) + ")"));
        }
        String kindName = kindNode.textValue();
        if (HEADER.equals(kindName)) {
            JsonNode format = json.get("format");
            if (format == null || format.isNull()) {
                throw refused(number, "header", "field `format` is required: this server reads format " + FORMAT);
            }
            if (!format.isIntegralNumber()) {
                throw refused(number, "header", "field `format` must be a whole number, got " + shown(format) + ": this server reads format " + FORMAT);
            }
            if (!format.canConvertToInt() || format.intValue() != FORMAT) {
                throw refused(number, "header", "field `format` is " + format.asText() + ", a format this server does not read (it reads format "
                        + FORMAT + ")");
            }
            return new Line(number, text, null, json);
        }
        Kind kind = KINDS.get(kindName);
        if (kind == null) {
            throw refused(number, null, "unknown kind `" + kindName + "` (" + String.join(", ", ORDER) + ")");
        }
        for (Field field : kind.fields()) {
            JsonNode value = json.get(field.name());
            if (value == null || value.isNull()) {
                if (field.required()) {
                    throw refused(number, kind.name(), "field `" + field.name() + "` is required (" + field.type().expected + ")");
                }
                continue;
            }
            boolean fits = switch (field.type()) {
                case TEXT, TIME -> value.isTextual();
                case WHOLE -> value.isIntegralNumber() && value.canConvertToInt();
                case BIG_WHOLE -> value.isIntegralNumber() && value.canConvertToLong();
                case TEXTS -> value.isArray() && allText(value);
                case ANY -> true;
            };
            if (!fits) {
                throw refused(number, kind.name(), "field `" + field.name() + "` must be " + field.type().expected + ", got " + shown(value));
            }
        }
        if (kind.name().equals("context") && !PRIORITIES.contains(json.get("priority").textValue())) {
            throw refused(number, kind.name(), "field `priority` must be always_check, important or reference, got "
                    + shown(json.get("priority")));
        }
        return new Line(number, text, kind, json);
    }

    private static boolean allText(JsonNode array) {
        for (JsonNode item : array) {
            if (!item.isTextual()) {
                return false;
            }
        }
        return true;
    }

    /** PostgreSQL stores no NUL character and no unpaired surrogate, in any string of a line (keys too). */
    private static void storable(int number, String path, JsonNode node) {
        if (node.isTextual()) {
            storableText(number, path, node.textValue());
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                storableText(number, at, e.getKey());
                storable(number, at, e.getValue());
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                storable(number, path + "[" + i + "]", node.get(i));
            }
        }
    }

    private static void storableText(int number, String path, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                throw refused(number, null, "field `" + path + "` contains a NUL character (\\u0000), which PostgreSQL cannot store");
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw refused(number, null, "field `" + path + "` contains an unpaired surrogate (\\u" + Integer.toHexString(c)
                        + "), which is not text PostgreSQL can store");
            }
        }
    }

    /** A value as it appears in a message: short, JSON. */
    private static String shown(JsonNode value) {
        String s = value.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    private static StoreRuleException refused(int number, String kind, String why) {
        String where = kind == null ? "line " + number : "line " + number + " (" + kind + ")";
        return new StoreRuleException(where + (why.startsWith("is ") ? " " : ": ") + why + " (nothing was imported)");
    }

    /** Lines of one kind waiting to be sent, with what the import did so far. */
    private static final class Batch {
        private final Tx tx;
        private final Map<String, Integer> added = new LinkedHashMap<>();
        private final Map<String, Integer> skipped = new LinkedHashMap<>();
        private final Set<String> labelsAdded = new HashSet<>();
        private final List<Line> pending = new ArrayList<>(BATCH);

        Batch(Tx tx) {
            this.tx = tx;
            for (String kind : ORDER) {
                added.put(kind, 0);
                skipped.put(kind, 0);
            }
        }

        void add(Line line) throws SQLException {
            if (!pending.isEmpty() && (pending.get(0).kind() != line.kind() || pending.size() == BATCH)) {
                flush();
            }
            pending.add(line);
        }

        void flush() throws SQLException {
            if (pending.isEmpty()) {
                return;
            }
            Kind kind = pending.get(0).kind();
            // what is already there (an earlier import of the same file) is found here and passed over: sessions by id,
            // context versions by label and version, archives and entries (no key of their own) by their content
            Set<String> there = there(kind.name());
            List<Line> sent = new ArrayList<>(pending.size());
            List<Object[]> rows = new ArrayList<>(pending.size());
            for (Line line : pending) {
                String key = key(line);
                if (key != null && !there.add(key)) {
                    skipped.merge(kind.name(), 1, Integer::sum);
                    continue;
                }
                sent.add(line);
                rows.add(new Object[] {line.text()});
            }
            if (rows.isEmpty()) {
                pending.clear();
                return;
            }
            pending.clear();
            pending.addAll(sent);
            long[] counts;
            try {
                counts = tx.batch(kind.sql(), rows);
            } catch (BatchUpdateException e) {
                SQLException cause = e.getNextException() != null ? e.getNextException() : e;
                StoreRuleException refusal = refusal(e, cause);
                if (refusal != null) {
                    throw refusal;
                }
                throw cause;
            }
            for (int i = 0; i < counts.length; i++) {
                boolean isNew = counts[i] > 0;
                (isNew ? added : skipped).merge(kind.name(), 1, Integer::sum);
                if (isNew && kind.name().equals("context")) {
                    labelsAdded.add(pending.get(i).json().get("label").textValue());
                }
            }
            pending.clear();
        }

        /** The instants of the batch's lines, as PostgreSQL reads them (micros since the epoch), by the text given. */
        private final Map<String, Long> instants = new java.util.HashMap<>();

        /**
         * @return the keys of the batch's archives or entries already stored (empty for other kinds): asked with plain
         *         statements PostgreSQL and Citus both run (no correlated subquery beside a function in FROM)
         */
        private Set<String> there(String kind) throws SQLException {
            Set<String> found = new HashSet<>();
            if (kind.equals("session") || kind.equals("context")) {
                // by their own keys (which the statements' ON CONFLICT also honours): asked first so that what is counted
                // as added is what was added (Citus reports an INSERT ... SELECT's rows read, not written)
                com.fasterxml.jackson.databind.node.ArrayNode ids = JSON.createArrayNode();
                for (Line line : pending) {
                    ids.add(line.json().path(kind.equals("session") ? "id" : "label").asText());
                }
                if (kind.equals("session")) {
                    tx.query("SELECT id FROM {s}.sessions WHERE id IN (SELECT jsonb_array_elements_text(?::jsonb))", r -> found.add(r.string(1)),
                            ids.toString());
                } else {
                    tx.query("SELECT label, version FROM {s}.context_locks WHERE label IN (SELECT jsonb_array_elements_text(?::jsonb))",
                            r -> found.add(r.string(1) + '\u0000' + r.string(2)), ids.toString());
                }
                return found;
            }
            if (!kind.equals("entry") && !kind.equals("archive")) {
                return found;
            }
            String field = kind.equals("entry") ? "created_at" : "archived_at";
            com.fasterxml.jackson.databind.node.ArrayNode times = JSON.createArrayNode();
            com.fasterxml.jackson.databind.node.ArrayNode labels = JSON.createArrayNode();
            for (Line line : pending) {
                JsonNode t = line.json().get(field);
                if (t != null && t.isTextual()) {
                    times.add(t.textValue());
                }
                if (line.json().path("label").isTextual()) {
                    labels.add(line.json().path("label").textValue());
                }
            }
            if (times.isEmpty()) {
                return found;
            }
            instants.clear();
            tx.query("SELECT t, (extract(epoch FROM t::timestamptz) * 1000000)::bigint FROM jsonb_array_elements_text(?::jsonb) t", r -> {
                instants.put(r.string(1), r.longValue(2));
                return null;
            }, times.toString());
            if (kind.equals("entry")) {
                tx.query("SELECT category, (extract(epoch FROM created_at) * 1000000)::bigint, md5(content) FROM {s}.memory_entries "
                        + "WHERE created_at IN (SELECT t::timestamptz FROM jsonb_array_elements_text(?::jsonb) t)", r -> {
                            found.add(r.string(1) + '\u0000' + r.longValue(2) + '\u0000' + r.string(3));
                            return null;
                        }, times.toString());
            } else {
                tx.query("SELECT label, version, (extract(epoch FROM archived_at) * 1000000)::bigint, content_hash FROM {s}.context_archives "
                        + "WHERE label IN (SELECT jsonb_array_elements_text(?::jsonb))", r -> {
                            found.add(r.string(1) + '\u0000' + r.string(2) + '\u0000' + r.longValue(3) + '\u0000' + r.string(4));
                            return null;
                        }, labels.toString());
            }
            return found;
        }

        /** @return the line's key as {@link #there} finds stored ones, or {@code null} when it has none (no instant given) */
        private String key(Line line) {
            JsonNode j = line.json();
            return switch (line.kind().name()) {
                case "session" -> j.path("id").asText();
                case "context" -> j.path("label").asText() + '\u0000' + j.path("version").asText();
                case "entry" -> {
                    Long at = j.path("created_at").isTextual() ? instants.get(j.path("created_at").textValue()) : null;
                    yield at == null ? null : j.path("category").asText() + '\u0000' + at + '\u0000' + md5(j.path("content").asText());
                }
                case "archive" -> {
                    Long at = j.path("archived_at").isTextual() ? instants.get(j.path("archived_at").textValue()) : null;
                    yield at == null ? null : j.path("label").asText() + '\u0000' + j.path("version").asText() + '\u0000' + at + '\u0000'
                            + j.path("content_hash").asText();
                }
                default -> null;
            };
        }

        private static String md5(String text) {
            try {
                return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * A line PostgreSQL refused for its data (a value it cannot read, such as a timestamp) is the caller's to fix:
         * refused naming the line, with PostgreSQL's one-line reason and never the row it would have stored. Anything
         * else (a lost connection, a timeout) stays the database's failure.
         */
        private StoreRuleException refusal(BatchUpdateException e, SQLException cause) {
            String state = cause.getSQLState() == null ? "" : cause.getSQLState();
            if (!state.startsWith("22") && !state.startsWith("23")) {
                return null;
            }
            Line line = failing(e);
            ServerErrorMessage server = cause instanceof PSQLException p ? p.getServerErrorMessage() : null;
            String reason = server != null && server.getMessage() != null ? server.getMessage() : cause.getMessage().lines().findFirst().orElse("");
            if (line == null) {
                Line first = pending.get(0);
                Line last = pending.get(pending.size() - 1);
                return new StoreRuleException("one of lines " + first.number() + " to " + last.number() + " (" + first.kind().name()
                        + ") cannot be stored: " + reason + " (nothing was imported)");
            }
            String field = server != null && server.getColumn() != null ? server.getColumn() : fieldNamed(line, reason);
            return refused(line.number(), line.kind().name(), (field == null ? "" : "field `" + field + "`: ") + reason);
        }

        /**
         * @return the line whose statement failed: PostgreSQL's driver marks every statement of a batch failed once the
         *         transaction is aborted, and names the failing one only in its message ({@code Batch entry 3 ...})
         */
        private Line failing(BatchUpdateException e) {
            Matcher m = BATCH_ENTRY.matcher(e.getMessage() == null ? "" : e.getMessage());
            if (m.find()) {
                int at = Integer.parseInt(m.group(1));
                if (at < pending.size()) {
                    return pending.get(at);
                }
            }
            return null;
        }

        /** @return the field whose value the message quotes ({@code invalid input syntax for type ...: "value"}), if any */
        private static String fieldNamed(Line line, String message) {
            for (Field field : line.kind().fields()) {
                JsonNode value = line.json().get(field.name());
                if (value != null && value.isTextual() && message.contains("\"" + value.textValue() + "\"")) {
                    return field.name();
                }
            }
            return null;
        }
    }
}
