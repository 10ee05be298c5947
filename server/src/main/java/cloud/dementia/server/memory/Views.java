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

    static ObjectNode context(Context c, boolean withContent) {
        ObjectNode o = Json.object();
        o.put("topic", c.label());
        o.put("version", c.version());
        o.put("priority", c.priority());
        if (withContent) {
            o.put("content", c.content());
        }
        o.put("preview", c.preview());
        o.put("content_hash", c.hash());
        ArrayNode concepts = o.putArray("key_concepts");
        c.keyConcepts().forEach(concepts::add);
        ArrayNode tags = o.putArray("tags");
        c.tags().forEach(tags::add);
        o.put("locked_at", c.lockedAt().toString());
        o.put("last_accessed", c.lastAccessed() == null ? null : c.lastAccessed().toString());
        o.put("access_count", c.accessCount());
        return o;
    }

    static ObjectNode label(Contexts.LabelSummary l) {
        ObjectNode o = Json.object();
        o.put("topic", l.label());
        o.put("latest_version", l.latestVersion());
        o.put("versions", l.versions());
        o.put("priority", l.priority());
        o.put("preview", l.preview());
        o.put("locked_at", l.lockedAt().toString());
        o.put("last_accessed", l.lastAccessed() == null ? null : l.lastAccessed().toString());
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
