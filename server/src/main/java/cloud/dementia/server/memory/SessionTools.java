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
import cloud.dementia.server.tools.ToolCall;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/** wake_up, sleep, get_last_handover, memory_status. */
final class SessionTools {

    static final String HANDOVER = "handover";

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
                        "Start of a conversation: the rules to always check, contexts by priority, stale contexts, the last handover "
                                + "and memory health of the project.",
                        InputSchema.object().project().build(), false, false, this::wakeUp),
                new ToolSpec("sleep", "Sleep",
                        "End of a conversation: store a handover (what this session locked and did) for the next one.",
                        InputSchema.object().project().build(), false, false, this::sleep),
                new ToolSpec("get_last_handover", "Last handover", "The latest handover of the project, with its age.",
                        InputSchema.object().project().build(), true, false, this::lastHandover),
                new ToolSpec("memory_status", "Memory status",
                        "Counts by priority, sizes, archives, sessions and handovers of the project.",
                        InputSchema.object().project().build(), true, false, this::status));
    }

    private ToolOutput wakeUp(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        String sessionId = call.sessionId().orElse(MemoryTools.NO_SESSION);
        Sessions.Session session = sessions.touch(r.schema(), sessionId);
        List<Contexts.LabelSummary> labels = contexts.labels(r.schema());
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.putObject("session").put("id", session.id()).put("started_at", session.startedAt().toString()).put("calls", session.calls());
        ObjectNode byPriority = o.putObject("contexts");
        byPriority.put("total", labels.size());
        ArrayNode always = byPriority.putArray("always_check");
        ArrayNode important = byPriority.putArray("important");
        ArrayNode reference = byPriority.putArray("reference");
        for (Contexts.LabelSummary l : labels) {
            switch (l.priority()) {
                case "always_check" -> always.addObject().put("topic", l.label()).put("version", l.latestVersion()).put("preview", l.preview());
                case "important" -> important.add(l.label() + " v" + l.latestVersion());
                default -> reference.add(l.label() + " v" + l.latestVersion());
            }
        }
        ArrayNode stale = o.putArray("stale");
        contexts.stale(r.schema()).forEach(l -> stale.add(l.label() + " v" + l.latestVersion()));
        o.set("last_handover", sessions.latest(r.schema(), HANDOVER).map(SessionTools::handover).orElse(null));
        Sessions.Stats stats = sessions.stats(r.schema(), contexts);
        ObjectNode health = Views.stats(stats);
        health.put("status", stale.size() > Math.max(5, labels.size() / 2) ? "needs_review" : "healthy");
        o.set("memory_health", health);
        return ToolOutput.json(o);
    }

    private ToolOutput sleep(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        String sessionId = call.sessionId().orElse(MemoryTools.NO_SESSION);
        Sessions.Session session = sessions.touch(r.schema(), sessionId);
        ObjectNode h = Json.object();
        h.put("session_id", sessionId);
        h.put("project", r.name());
        h.put("session_started_at", session.startedAt().toString());
        ArrayNode locked = h.putArray("contexts_locked");
        sessions.lockedBy(r.schema(), sessionId).forEach(locked::add);
        ArrayNode activity = h.putArray("recent_activity");
        for (Sessions.Activity a : sessions.activity(r.schema(), sessionId, 20)) {
            activity.addObject().put("action", a.action()).put("target", a.target()).put("at", a.at().toString());
        }
        ArrayNode progress = h.putArray("recent_progress");
        sessions.since(r.schema(), "progress", session.startedAt(), 20).forEach(e -> progress.add(e.content()));
        ArrayNode open = h.putArray("open_items");
        sessions.since(r.schema(), "open_item", session.startedAt(), 20).forEach(e -> open.add(e.content()));
        String summary = "Session " + sessionId + " in project " + r.name() + ": locked " + locked.size() + " context(s)"
                + (locked.isEmpty() ? "" : " (" + String.join(", ", locked.valueStream().map(JsonNode::asText).toList()) + ")")
                + ", " + activity.size() + " recorded action(s).";
        h.put("summary", summary);
        Sessions.Entry entry = sessions.addEntry(r.schema(), HANDOVER, summary, Json.compact(h), sessionId);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("message", "Handover stored. The next wake_up will show it.");
        o.set("handover", handover(entry));
        return ToolOutput.json(o);
    }

    private ToolOutput lastHandover(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        Optional<Sessions.Entry> latest = sessions.latest(r.schema(), HANDOVER);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        if (latest.isEmpty()) {
            o.putNull("handover");
            o.put("message", "No handover yet: sleep stores one at the end of a conversation.");
        } else {
            o.set("handover", handover(latest.get()));
        }
        return ToolOutput.json(o);
    }

    private ToolOutput status(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Views.stats(sessions.stats(r.schema(), contexts));
        o.put("project", r.name());
        o.put("stale", contexts.stale(r.schema()).size());
        return ToolOutput.json(o);
    }

    static ObjectNode handover(Sessions.Entry e) {
        ObjectNode o = Json.object();
        o.put("created_at", e.createdAt().toString());
        o.put("age", Views.age(e.createdAt()));
        o.put("age_seconds", java.time.Duration.between(e.createdAt(), java.time.Instant.now()).toSeconds());
        o.put("session_id", e.sessionId());
        o.put("summary", e.content());
        o.set("details", Json.parse(e.metadataJson()));
        return o;
    }
}
