package cloud.dementia.server.memory;

import java.time.Duration;
import java.time.Instant;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.store.Context;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.server.tools.Json;

/** How stored things are shown to clients (JSON objects, as the original returned JSON). */
final class Views {

    private Views() {
    }

    /**
     * A context as an assistant uses it: topic, version, priority, the content (or its preview when the content is not
     * asked for, or the preview alone when it is the whole content), tags when there are any, when it was locked and
     * how often it was read. No hash or key concepts unless asked ({@link #withHash}), no nulls.
     */
    static ObjectNode context(Context c, boolean withContent) {
        ObjectNode o = Json.object();
        o.put("topic", c.label());
        o.put("version", c.version());
        o.put("priority", c.priority());
        if (withContent) {
            o.put("content", c.content());
        } else {
            o.put("preview", c.preview());
            if (c.preview().length() < c.content().length()) {
                o.put("cut", true);
            }
        }
        if (!c.tags().isEmpty()) {
            ArrayNode tags = o.putArray("tags");
            c.tags().forEach(tags::add);
        }
        o.put("locked_at", c.lockedAt().toString());
        if (c.lastAccessed() != null) {
            o.put("last_accessed", c.lastAccessed().toString());
        }
        o.put("access_count", c.accessCount());
        return o;
    }

    /** Adds what only some callers ask for: the content hash and the key concepts. */
    static ObjectNode withHash(ObjectNode view, Context c) {
        view.put("content_hash", c.hash());
        ArrayNode concepts = view.putArray("key_concepts");
        c.keyConcepts().forEach(concepts::add);
        return view;
    }

    static ObjectNode label(Contexts.LabelSummary l) {
        ObjectNode o = Json.object();
        o.put("topic", l.label());
        o.put("latest_version", l.latestVersion());
        o.put("versions", l.versions());
        o.put("priority", l.priority());
        o.put("preview", l.preview());
        o.put("locked_at", l.lockedAt().toString());
        if (l.lastAccessed() != null) {
            o.put("last_accessed", l.lastAccessed().toString());
        }
        o.put("access_count", l.accessCount());
        return o;
    }

    static ObjectNode stats(Sessions.Stats s) {
        ObjectNode o = Json.object();
        o.put("contexts", s.contexts());
        o.put("topics", s.labels());
        o.put("versioned_topics", s.versionedLabels());
        ObjectNode p = o.putObject("by_priority");
        s.byPriority().forEach(p::put);
        o.put("content_bytes", s.contentBytes());
        o.put("archived", s.archives());
        o.put("sessions", s.sessions());
        o.put("memory_entries", s.entries());
        o.put("handovers", s.handovers());
        return o;
    }

    static String age(Instant then) {
        Duration d = Duration.between(then, Instant.now());
        if (d.toDays() > 0) {
            return d.toDays() + " days ago";
        }
        if (d.toHours() > 0) {
            return d.toHours() + " hours ago";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + " minutes ago";
        }
        return d.toSeconds() + " seconds ago";
    }
}
