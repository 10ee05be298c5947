package cloud.dementia.server.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.store.Context;
import cloud.dementia.db.store.ContextText;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.db.store.StoreRuleException;
import cloud.dementia.server.tools.InputSchema;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ProjectResolver;
import cloud.dementia.server.tools.ToolArgumentException;
import cloud.dementia.server.tools.ToolCall;
import cloud.dementia.server.tools.ToolError;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/** lock/recall/unlock, the batch forms, explore, search, check and the dashboard. */
final class ContextTools {

    static final int TREE_LIMIT = 50;

    private final ProjectResolver resolver;
    private final Contexts contexts;
    private final Sessions sessions;

    ContextTools(ProjectResolver resolver, Contexts contexts, Sessions sessions) {
        this.resolver = resolver;
        this.contexts = contexts;
        this.sessions = sessions;
    }

    List<ToolSpec> specs() {
        ObjectNode item = InputSchema.object()
                .string("content", "The text to lock", true)
                .string("topic", "Label the context is versioned under", true)
                .stringList("tags", "Tags (a list, or comma-separated)", false)
                .choice("priority", "always_check, important or reference (detected from the text when absent)", null,
                        "always_check", "important", "reference").build();
        return List.of(
                new ToolSpec("lock_context", "Lock context",
                        "Store an immutable, versioned context (rule, decision, spec) under a topic. Versions go 1.0, 1.1, 1.2 per topic.",
                        InputSchema.object().string("content", "The text to lock", true)
                                .string("topic", "Label the context is versioned under", true)
                                .stringList("tags", "Tags (a list, or comma-separated)", false)
                                .choice("priority", "always_check, important or reference (detected from the text when absent)", null,
                                        "always_check", "important", "reference")
                                .project().build(), false, false, this::lock),
                new ToolSpec("recall_context", "Recall context",
                        "Recall the latest version of a topic, or a named version (1.2 or v1.2). preview_only returns preview and metadata.",
                        InputSchema.object().string("topic", "Topic to recall", true)
                                .string("version", "latest (default), 1.2 or v1.2", false)
                                .bool("preview_only", "Return preview and metadata only", false)
                                .bool("include_hash", "Also return the content hash and key concepts", false).project().build(),
                        false, false, this::recall),
                new ToolSpec("unlock_context", "Unlock context",
                        "Delete one version or all versions of a topic, archiving them first by default. always_check contexts need force=true.",
                        InputSchema.object().string("topic", "Topic to unlock", true)
                                .string("version", "all (default), 1.2 or v1.2", false)
                                .bool("force", "Needed for always_check contexts", false)
                                .bool("archive", "Archive before deleting", true).project().build(),
                        false, true, this::unlock),
                new ToolSpec("batch_lock_contexts", "Lock several contexts",
                        "Lock several contexts atomically (at most " + BATCH_LIMIT + "): all are stored, or none (one invalid item and "
                                + "nothing is stored).",
                        InputSchema.object().array("contexts", "Contexts: {content, topic, tags?, priority?}", item, true).project().build(),
                        false, false, this::batchLock),
                new ToolSpec("batch_recall_contexts", "Recall several contexts",
                        "Recall the latest version of several topics (at most " + BATCH_LIMIT + "; previews by default).",
                        InputSchema.object().stringList("topics", "Topics (a list, or comma-separated)", true)
                                .bool("preview_only", "Return previews only", true).project().build(),
                        false, false, this::batchRecall),
                new ToolSpec("explore_context_tree", "Explore contexts",
                        "List the project's contexts: flat `topic vX` lines, or a tree by priority with previews "
                                + "(above " + TREE_LIMIT + " contexts only with confirm_full=true).",
                        InputSchema.object().bool("flat", "One line per topic", true)
                                .bool("confirm_full", "Show the full tree even when it is large", false).project().build(),
                        true, false, this::explore),
                new ToolSpec("search_contexts", "Search contexts",
                        "Search the latest version of each topic by meaning, words and spelling, best match first: ask in your own "
                                + "words (a question or a few keywords); a rule is found even when it uses other words.",
                        InputSchema.object().string("query", "A question or keywords in your own words; \"quoted phrase\" and -exclude "
                                + "narrow the word match", true)
                                .choice("priority", "Only this priority", null, "always_check", "important", "reference")
                                .stringList("tags", "Only contexts with one of these tags", false)
                                .integer("limit", "Most results", 10, 1, 100).project().build(),
                        true, false, this::search),
                new ToolSpec("check_contexts", "Check contexts",
                        "The contexts relevant to a piece of text (a plan, a diff, a question): always_check rules first.",
                        InputSchema.object().string("text", "The text to check", true)
                                .integer("max_chars", "Largest answer in characters: rules first, long texts shortened, the rest left out (with a note)",
                                        Budget.DEFAULT_MAX_CHARS, Budget.MIN_MAX_CHARS, Budget.MAX_MAX_CHARS).project().build(), true, false, this::check),
                new ToolSpec("context_dashboard", "Context dashboard",
                        "Counts by priority, sizes, most and least accessed, stale and versioned topics.",
                        InputSchema.object().project().build(), true, false, this::dashboard));
    }

    private static Contexts.NewContext newContext(ToolCall call) {
        Optional<String> priority = call.choice("priority", ContextText.PRIORITIES);
        Contexts.NewContext c = new Contexts.NewContext(call.string("topic"), call.string("content"), call.stringList("tags"), priority);
        try {
            Contexts.validate(c);
        } catch (StoreRuleException e) {
            throw new ToolArgumentException(e.getMessage().startsWith("topic") ? "topic" : "content", "is refused: " + e.getMessage());
        }
        return c;
    }

    private ToolOutput lock(ToolCall call) {
        Contexts.NewContext c = newContext(call);
        ProjectResolver.Resolved r = resolver.resolve(call);
        Context locked = contexts.lock(r.schema(), c, session(call));
        // what the assistant just sent is not sent back: where it went, under which version and priority
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("topic", locked.label());
        o.put("version", locked.version());
        o.put("priority", locked.priority());
        o.put("message", "Locked `" + locked.label() + "` as v" + locked.version() + " (" + locked.priority() + ").");
        return ToolOutput.json(o);
    }

    private ToolOutput recall(ToolCall call) {
        String topic = call.string("topic");
        String version = call.optionalString("version").orElse("latest");
        boolean preview = call.bool("preview_only", false);
        ProjectResolver.Resolved r = resolver.resolve(call);
        Context c = contexts.recall(r.schema(), topic, version, preview).orElseThrow(() -> notFound(r, topic, version));
        ObjectNode o = Views.context(c, !preview);
        if (call.bool("include_hash", false)) {
            Views.withHash(o, c);
        }
        o.put("project", r.name());
        return ToolOutput.json(o);
    }

    private ToolError notFound(ProjectResolver.Resolved r, String topic, String version) {
        List<String> versions = contexts.versions(r.schema(), topic);
        if (versions.isEmpty()) {
            return new ToolError("no context `" + topic + "` in project `" + r.name() + "`");
        }
        return new ToolError("no version `" + version + "` of `" + topic + "`; versions: " + String.join(", ", versions));
    }

    private ToolOutput unlock(ToolCall call) {
        String topic = call.string("topic");
        String version = call.optionalString("version").orElse("all");
        boolean force = call.bool("force", false);
        boolean archive = call.bool("archive", true);
        ProjectResolver.Resolved r = resolver.resolve(call);
        List<String> deleted = contexts.unlock(r.schema(), topic, version, force, archive, session(call));
        if (deleted.isEmpty()) {
            throw notFound(r, topic, version);
        }
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("topic", topic);
        ArrayNode v = o.putArray("versions_deleted");
        deleted.forEach(v::add);
        o.put("archived", archive);
        o.put("message", "Unlocked " + deleted.size() + " version(s) of `" + topic + "`" + (archive ? " (archived)." : "."));
        return ToolOutput.json(o);
    }

    /** Items one batch call may hold: one transaction, one answer, bounded (10,000 items once ran 6 s in one transaction). */
    static final int BATCH_LIMIT = 200;

    private static void limitBatch(String argument, int items) {
        if (items > BATCH_LIMIT) {
            throw new ToolArgumentException(argument, "holds " + items + " items: at most " + BATCH_LIMIT + " per call (send several batches)");
        }
    }

    private ToolOutput batchLock(ToolCall call) {
        List<ObjectNode> items = call.objects("contexts");
        if (items.isEmpty()) {
            throw new ToolArgumentException("contexts", "must hold at least one context");
        }
        limitBatch("contexts", items.size());
        List<Contexts.NewContext> batch = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            try {
                batch.add(newContext(call.item("contexts", i, items.get(i))));
            } catch (ToolArgumentException e) {
                throw new ToolArgumentException("contexts[" + i + "]", "is refused (" + e.getMessage() + "); nothing was stored");
            }
        }
        ProjectResolver.Resolved r = resolver.resolve(call);
        List<Context> locked = contexts.lockAll(r.schema(), batch, session(call));
        ObjectNode o = Json.object();
        o.put("project", r.name());
        ArrayNode list = o.putArray("locked");
        locked.forEach(c -> list.addObject().put("topic", c.label()).put("version", c.version()).put("priority", c.priority()));
        o.put("count", locked.size());
        return ToolOutput.json(o);
    }

    private ToolOutput batchRecall(ToolCall call) {
        List<String> topics = call.stringList("topics");
        if (topics.isEmpty()) {
            throw new ToolArgumentException("topics", "is required (at least one topic)");
        }
        limitBatch("topics", topics.size());
        boolean preview = call.bool("preview_only", true);
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        ArrayNode results = o.putArray("results");
        int found = 0;
        for (String topic : topics) {
            Optional<Context> c = contexts.recall(r.schema(), topic, "latest", preview);
            if (c.isPresent()) {
                found++;
                results.add(Views.context(c.get(), !preview).put("found", true));
            } else {
                results.addObject().put("topic", topic).put("found", false);
            }
        }
        o.put("found", found);
        o.put("missing", topics.size() - found);
        return ToolOutput.json(o);
    }

    private ToolOutput explore(ToolCall call) {
        boolean flat = call.bool("flat", true);
        boolean confirmFull = call.bool("confirm_full", false);
        ProjectResolver.Resolved r = resolver.resolve(call);
        List<Contexts.LabelSummary> labels = contexts.labels(r.schema());
        if (labels.isEmpty()) {
            return ToolOutput.text("No contexts in project `" + r.name() + "` yet.");
        }
        if (flat) {
            StringBuilder sb = new StringBuilder("Contexts in project `" + r.name() + "` (" + labels.size() + "):\n");
            labels.forEach(l -> sb.append(l.label()).append(" v").append(l.latestVersion()).append('\n'));
            return ToolOutput.text(sb.toString().stripTrailing());
        }
        if (labels.size() > TREE_LIMIT && !confirmFull) {
            return ToolOutput.text("Project `" + r.name() + "` has " + labels.size() + " contexts, more than " + TREE_LIMIT
                    + ": the full tree is long. Call again with confirm_full=true, or use flat=true.");
        }
        ObjectNode o = Json.object();
        o.put("project", r.name());
        Map<String, ArrayNode> groups = new TreeMap<>();
        for (String p : List.of("always_check", "important", "reference")) {
            groups.put(p, o.putArray(p));
        }
        labels.forEach(l -> groups.get(l.priority()).addObject().put("topic", l.label()).put("version", l.latestVersion())
                .put("versions", l.versions()).put("preview", l.preview()));
        o.put("total", labels.size());
        return ToolOutput.json(o);
    }

    private ToolOutput search(ToolCall call) {
        String query = call.string("query");
        Optional<String> priority = call.choice("priority", ContextText.PRIORITIES);
        List<String> tags = call.stringList("tags");
        int limit = call.integer("limit", 10, 1, 100);
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("query", query);
        ArrayNode results = o.putArray("results");
        for (Contexts.Hit hit : contexts.search(r.schema(), query, priority, tags, limit)) {
            results.add(Views.context(hit.context(), false).put("rank", Math.round(hit.rank() * 10000) / 10000.0));
        }
        o.put("count", results.size());
        return ToolOutput.json(o);
    }

    private ToolOutput check(ToolCall call) {
        String text = call.string("text");
        int maxChars = call.integer("max_chars", Budget.DEFAULT_MAX_CHARS, Budget.MIN_MAX_CHARS, Budget.MAX_MAX_CHARS);
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        ArrayNode rules = o.putArray("always_check");
        ArrayNode relevant = o.putArray("relevant");
        for (Contexts.Hit hit : contexts.relevantTo(r.schema(), text, 20)) {
            boolean always = hit.context().priority().equals(ContextText.ALWAYS_CHECK);
            ObjectNode v = Json.object().put("topic", hit.context().label()).put("version", hit.context().version());
            if (always) {
                v.put("content", hit.context().content());
            } else {
                v.put("priority", hit.context().priority()).put("preview", hit.context().preview());
            }
            (always ? rules : relevant).add(v);
        }
        o.put("count", rules.size() + relevant.size());
        // the rules first: relevant contexts are shortened, then dropped, before any rule is
        Budget budget = new Budget(o, maxChars);
        budget.shorten(relevant);
        budget.dropFromEnd(relevant, "relevant contexts", "search_contexts finds them");
        budget.shorten(rules);
        budget.dropFromEnd(rules, "always_check rules", "explore_context_tree(flat=false) lists them");
        return ToolOutput.json(budget.finish());
    }

    private ToolOutput dashboard(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        Sessions.Stats stats = sessions.stats(r.schema());
        ObjectNode o = Views.stats(stats);
        o.put("project", r.name());
        ArrayNode most = o.putArray("most_accessed");
        stats.mostAccessed().forEach(l -> most.addObject().put("topic", l.label()).put("access_count", l.accessCount()));
        ArrayNode least = o.putArray("least_accessed");
        stats.leastAccessed().forEach(l -> least.addObject().put("topic", l.label()).put("access_count", l.accessCount()));
        ArrayNode stale = o.putArray("stale");
        contexts.stale(r.schema()).forEach(l -> stale.add(l.label() + " v" + l.latestVersion()));
        ArrayNode versioned = o.putArray("versioned");
        contexts.labels(r.schema()).stream().filter(l -> l.versions() > 1)
                .forEach(l -> versioned.addObject().put("topic", l.label()).put("versions", l.versions()).put("latest", l.latestVersion()));
        return ToolOutput.json(o);
    }

    private static String session(ToolCall call) {
        return call.sessionId().orElse(MemoryTools.NO_SESSION);
    }

}
