package cloud.dementia.server.memory;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.server.tools.InputSchema;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ProjectResolver;
import cloud.dementia.server.tools.ToolArgumentException;
import cloud.dementia.server.tools.ToolCall;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/** wake_up, sleep, record_progress, get_last_handover, memory_status. */
final class SessionTools {

    static final String HANDOVER = "handover";
    static final String PROGRESS = "progress";
    private static final int MAX_TEXT = 4000;
    private static final int MAX_ITEMS = 50;

    private final ProjectResolver resolver;
    private final Contexts contexts;
    private final Sessions sessions;

    SessionTools(ProjectResolver resolver, Contexts contexts, Sessions sessions) {
        this.resolver = resolver;
        this.contexts = contexts;
        this.sessions = sessions;
    }

    List<ToolSpec> specs() {
        return List.of(
                new ToolSpec("wake_up", "Wake up",
                        "Start of a conversation: the last handover, the rules to always check, contexts by priority, stale contexts "
                                + "and whether the project's memory needs review (memory_status has its sizes and counts).",
                        InputSchema.object().integer("max_chars", "Largest answer in characters: the handover and the rules first, the rest "
                                        + "shortened or counted (with a note)", Budget.DEFAULT_MAX_CHARS, Budget.MIN_MAX_CHARS, Budget.MAX_MAX_CHARS)
                                .project().build(), false, false, this::wakeUp),
                new ToolSpec("sleep", "Sleep",
                        "End of a conversation: store the handover for the next one. Write it: summary (what was done), open_items, "
                                + "next_steps, decisions; the server adds the contexts this session locked, the tools it used and how long it ran. "
                                + "The next wake_up shows it first.",
                        InputSchema.object().string("summary", "What this session did, in a few sentences", false)
                                .stringList("open_items", "What is unfinished or broken (a list; a string is one item)", false)
                                .stringList("next_steps", "What to do first next time (a list; a string is one item)", false)
                                .stringList("decisions", "What was agreed (lock lasting ones with lock_context too)", false)
                                .project().build(), false, false, this::sleep),
                new ToolSpec("record_progress", "Record progress",
                        "Note progress during a session (a step done, a finding); the handover lists this session's notes.",
                        InputSchema.object().string("note", "What was done or found, in a sentence or two", true).project().build(),
                        false, false, this::recordProgress),
                new ToolSpec("get_last_handover", "Last handover", "The latest handover of the project, with its age.",
                        InputSchema.object().project().build(), true, false, this::lastHandover),
                new ToolSpec("memory_status", "Memory status",
                        "Counts by priority, sizes, archives, sessions and handovers of the project.",
                        InputSchema.object().project().build(), true, false, this::status));
    }

    private ToolOutput wakeUp(ToolCall call) {
        int maxChars = call.integer("max_chars", Budget.DEFAULT_MAX_CHARS, Budget.MIN_MAX_CHARS, Budget.MAX_MAX_CHARS);
        ProjectResolver.Resolved r = resolver.resolve(call);
        String sessionId = call.sessionId().orElse(MemoryTools.NO_SESSION);
        // a rule takes more than 40 characters and a list entry more than 8: more than that could never be shown
        int ruleMax = maxChars / 40 + 1;
        int listMax = maxChars / 8 + 1;
        // a read-only key may start its conversation too, but changes nothing: its session is not recorded
        Sessions.WakeUp w = call.caller().readOnly() ? sessions.look(r.schema(), ruleMax, listMax)
                : sessions.wakeUp(r.schema(), sessionId, ruleMax, listMax);
        Sessions.Health health = w.health();
        ObjectNode o = Json.object();
        o.put("project", r.name());
        // what the last session left first: it is what the assistant needs to pick up the work
        w.handover().ifPresent(h -> o.set("last_handover", handover(h)));
        ObjectNode session = o.putObject("session").put("id", sessionId);
        w.session().ifPresentOrElse(s -> session.put("started_at", s.startedAt().toString()).put("calls", s.calls()),
                () -> session.put("recorded", false));
        ObjectNode byPriority = o.putObject("contexts");
        byPriority.put("total", health.topics());
        ArrayNode always = byPriority.putArray("always_check");
        for (Contexts.Latest l : w.alwaysCheck()) {
            ObjectNode rule = always.addObject().put("topic", l.label()).put("version", l.version()).put("preview", l.preview());
            if (l.size() > l.preview().getBytes(java.nio.charset.StandardCharsets.UTF_8).length) {
                rule.put("cut", true);
            }
        }
        ArrayNode important = byPriority.putArray("important");
        w.important().forEach(l -> important.add(l.label() + " v" + l.version()));
        ArrayNode reference = byPriority.putArray("reference");
        w.reference().forEach(l -> reference.add(l.label() + " v" + l.version()));
        ArrayNode stale = o.putArray("stale");
        w.stale().forEach(l -> stale.add(l.label() + " v" + l.version()));
        // sizes and counts of every version are memory_status's: here what says whether the memory needs care
        o.put("memory_health", health.stale() > Math.max(5, health.topics() / 2) ? "needs_review" : "healthy");
        // within the budget: counts instead of lists, least useful first, then shorter rules, then fewer
        Budget budget = new Budget(o, maxChars);
        budget.count(byPriority, "reference", health.topicsByPriority().get("reference"), "explore_context_tree lists them");
        budget.count(o, "stale", health.stale(), "context_dashboard lists them");
        budget.count(byPriority, "important", health.topicsByPriority().get("important"), "explore_context_tree(flat=false) lists them");
        // the rules are what an assistant must not miss: the handover gives way first, then long rules are shortened
        budget.trim(o, "last_handover", List.of("tools_used", "duration_s", "contexts_locked", "progress", "decisions", "next_steps",
                "open_items", "summary"), "of the last handover", "get_last_handover reads it whole");
        budget.shorten(always);
        budget.dropFromEnd(always, "always_check rules", health.topicsByPriority().get("always_check"), "explore_context_tree(flat=false) lists them");
        return ToolOutput.json(budget.finish());
    }

    private ToolOutput sleep(ToolCall call) {
        String written = call.optionalString("summary").map(String::strip).filter(t -> !t.isEmpty()).orElse(null);
        if (written != null && written.length() > MAX_TEXT) {
            throw new ToolArgumentException("summary", "is " + written.length() + " characters; at most " + MAX_TEXT);
        }
        List<String> openItems = items(call, "open_items");
        List<String> nextSteps = items(call, "next_steps");
        List<String> decisions = items(call, "decisions");
        ProjectResolver.Resolved r = resolver.resolve(call);
        String sessionId = call.sessionId().orElse(MemoryTools.NO_SESSION);
        Sessions.Session session = sessions.touch(r.schema(), sessionId);
        List<String> locked = sessions.lockedBy(r.schema(), sessionId);
        java.util.Map<String, Integer> toolsUsed = sessions.toolsUsed(r.schema(), sessionId);
        List<String> progress = sessions.since(r.schema(), PROGRESS, session.startedAt(), 20).stream().map(Sessions.Entry::content).toList();
        long seconds = java.time.Duration.between(session.startedAt(), java.time.Instant.now()).toSeconds();
        String summary = written != null ? written
                : "Locked " + locked.size() + " context(s)" + (locked.isEmpty() ? "" : " (" + String.join(", ", locked) + ")") + "; "
                        + toolsUsed.values().stream().mapToInt(Integer::intValue).sum() + " tool call(s).";
        ObjectNode h = Json.object();
        h.put("summary", summary);
        putList(h, "open_items", openItems);
        putList(h, "next_steps", nextSteps);
        putList(h, "decisions", decisions);
        putList(h, "progress", progress);
        putList(h, "contexts_locked", locked);
        if (!toolsUsed.isEmpty()) {
            ObjectNode used = h.putObject("tools_used");
            toolsUsed.forEach(used::put);
        }
        h.put("duration_s", seconds);
        h.put("session_id", sessionId);
        Sessions.Entry entry = sessions.addEntry(r.schema(), HANDOVER, summary, Json.compact(h), sessionId);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("message", "Handover stored. The next wake_up shows it first.");
        o.set("handover", handover(entry));
        return ToolOutput.json(o);
    }

    private ToolOutput recordProgress(ToolCall call) {
        String note = call.string("note").strip();
        if (note.isEmpty() || note.length() > MAX_TEXT) {
            throw new ToolArgumentException("note", note.isEmpty() ? "must not be empty" : "is " + note.length() + " characters; at most " + MAX_TEXT);
        }
        ProjectResolver.Resolved r = resolver.resolve(call);
        String sessionId = call.sessionId().orElse(MemoryTools.NO_SESSION);
        sessions.touch(r.schema(), sessionId);
        sessions.addEntry(r.schema(), PROGRESS, note, "{}", sessionId);
        return ToolOutput.json(Json.object().put("project", r.name()).put("message", "Noted; the handover will list it."));
    }

    /** A list argument of free text: a string is one item (commas and all), a list its items; at most {@value #MAX_ITEMS}. */
    private static List<String> items(ToolCall call, String name) {
        Optional<JsonNode> v = call.raw(name).filter(n -> !n.isNull());
        if (v.isEmpty()) {
            return List.of();
        }
        List<String> out = new java.util.ArrayList<>();
        if (v.get().isTextual()) {
            out.add(v.get().asText());
        } else if (v.get().isArray()) {
            for (JsonNode item : v.get()) {
                if (!item.isTextual()) {
                    throw new ToolArgumentException(name, "must be a list of strings");
                }
                out.add(item.asText());
            }
        } else {
            throw new ToolArgumentException(name, "must be a list of strings or one string");
        }
        List<String> kept = out.stream().map(String::strip).filter(t -> !t.isEmpty()).toList();
        if (kept.size() > MAX_ITEMS) {
            throw new ToolArgumentException(name, "holds " + kept.size() + " items; at most " + MAX_ITEMS);
        }
        for (String t : kept) {
            if (t.length() > MAX_TEXT) {
                throw new ToolArgumentException(name, "has an item of " + t.length() + " characters; at most " + MAX_TEXT);
            }
        }
        return kept;
    }

    private static void putList(ObjectNode o, String name, List<String> values) {
        if (!values.isEmpty()) {
            ArrayNode a = o.putArray(name);
            values.forEach(a::add);
        }
    }

    private ToolOutput lastHandover(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        Optional<Sessions.Entry> latest = sessions.latest(r.schema(), HANDOVER);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        if (latest.isEmpty()) {
            o.put("message", "No handover yet: sleep stores one at the end of a conversation.");
        } else {
            o.set("handover", handover(latest.get()));
        }
        return ToolOutput.json(o);
    }

    private ToolOutput status(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        Sessions.Stats stats = sessions.stats(r.schema());
        ObjectNode o = Views.stats(stats);
        o.put("project", r.name());
        o.put("stale", stats.stale());
        return ToolOutput.json(o);
    }

    /**
     * A handover as the next session reads it: its age, then what the assistant wrote and what the server added, only
     * the fields that hold something (no project or session repeated, no nulls).
     */
    static ObjectNode handover(Sessions.Entry e) {
        ObjectNode o = Json.object();
        o.put("age", Views.age(e.createdAt()));
        o.put("created_at", e.createdAt().toString());
        JsonNode details = Json.parse(e.metadataJson());
        o.put("summary", e.content());
        for (String field : List.of("open_items", "next_steps", "decisions", "progress", "contexts_locked", "tools_used", "duration_s")) {
            JsonNode v = details.get(field);
            if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty())) {
                o.set(field, v);
            }
        }
        return o;
    }
}
