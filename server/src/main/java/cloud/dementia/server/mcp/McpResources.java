package cloud.dementia.server.mcp;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolOutput;

/**
 * Every context as an MCP resource: {@code dementia://<project>/context/<topic>} is its latest version,
 * {@code …/<topic>@<version>} one version (project and topic percent-encoded). {@code resources/list} lists the latest
 * version of every context in the projects the caller's key reaches, 100 at a time, with its title, a description
 * (the preview), size and priority; {@code resources/templates/list} gives the two URI templates; {@code resources/read}
 * reads through {@code recall_context}, so it counts as a recall and the key's scope applies. The MCP extension serves
 * no resources of its own, so {@link McpEndpoint}'s filter answers these three methods.
 */
final class McpResources {

    static final String SCHEME = "dementia://";
    static final int PAGE = 100;
    static final java.util.Set<String> METHODS = java.util.Set.of("resources/list", "resources/templates/list", "resources/read");
    /** MCP's "resource not found". */
    private static final int NOT_FOUND = -32002;
    private static final int INVALID_PARAMS = -32602;

    private final ToolInvoker invoker;
    private final Projects projects;
    private final Contexts contexts;

    McpResources(ToolInvoker invoker, Projects projects, Contexts contexts) {
        this.invoker = invoker;
        this.projects = projects;
        this.contexts = contexts;
    }

    /** A failure to answer as a JSON-RPC error. */
    static final class Refusal extends RuntimeException {
        final int code;

        Refusal(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private ArrayNode icons = Json.array();

    /** @param icons the icons resources carry in 2025-11-25 and later */
    McpResources withIcons(ArrayNode icons) {
        this.icons = icons;
        return this;
    }

    /** @return the {@code result} of one of {@link #METHODS} */
    ObjectNode answer(String method, McpCall call) {
        McpRequest request = call.request();
        try {
            return switch (method) {
                case "resources/list" -> list(call.params(), request.caller(), request.version());
                case "resources/templates/list" -> templates(request.version());
                case "resources/read" -> read(call.params(), request.caller(), request.sessionId());
                default -> throw new IllegalArgumentException(method);
            };
        } catch (Refusal e) {
            // 2026-07-28 answers a resource that does not exist with invalid params; the 2025 versions with -32002
            int code = e.code == NOT_FOUND && request.version().stateless() ? INVALID_PARAMS : e.code;
            JsonNode data = method.equals("resources/read") ? Json.object().put("uri", call.params().path("uri").asText("")) : null;
            throw new McpError(code, e.getMessage(), data, 200);
        }
    }

    private ObjectNode list(JsonNode params, Caller caller, McpVersion version) {
        int offset = 0;
        JsonNode cursor = params.path("cursor");
        if (!cursor.isMissingNode() && !cursor.isNull()) {
            try {
                offset = Integer.parseInt(cursor.asText());
            } catch (NumberFormatException e) {
                offset = -1;
            }
            if (offset < 0) {
                throw new Refusal(INVALID_PARAMS, "cursor `" + cursor.asText() + "` is not one this server gave");
            }
        }
        List<ObjectNode> all = new ArrayList<>();
        for (Projects.Project p : projects.list()) {
            if (!caller.mayReach(p.name())) {
                continue;
            }
            for (Contexts.LabelSummary l : contexts.labels(p.schema())) {
                ObjectNode r = Json.object();
                r.put("uri", uri(p.name(), l.label(), null));
                r.put("name", l.label());
                r.put("title", l.label() + " (" + p.name() + ", v" + l.latestVersion() + ")");
                r.put("description", (l.priority().equals("always_check") ? "[always check] " : "") + l.preview());
                r.put("mimeType", "text/markdown");
                r.put("size", l.size());
                ObjectNode annotations = r.putObject("annotations");
                annotations.putArray("audience").add("assistant").add("user");
                annotations.put("priority", switch (l.priority()) {
                    case "always_check" -> 1.0;
                    case "important" -> 0.7;
                    default -> 0.3;
                });
                if (l.lockedAt() != null) {
                    annotations.put("lastModified", l.lockedAt().toString());
                }
                r.putObject("_meta").put("project", p.name()).put("priority", l.priority()).put("versions", l.versions());
                if (version.icons()) {
                    r.set("icons", icons);
                }
                all.add(r);
            }
        }
        ObjectNode result = Json.object();
        ArrayNode page = result.putArray("resources");
        all.stream().skip(offset).limit(PAGE).forEach(page::add);
        if (offset + PAGE < all.size()) {
            result.put("nextCursor", String.valueOf(offset + PAGE));
        }
        return result;
    }

    private ObjectNode templates(McpVersion version) {
        ObjectNode result = Json.object();
        ArrayNode list = result.putArray("resourceTemplates");
        list.addObject().put("uriTemplate", SCHEME + "{project}/context/{topic}").put("name", "context")
                .put("title", "A context, latest version")
                .put("description", "A rule or decision of a project, its latest version (reading it counts as a recall)")
                .put("mimeType", "text/markdown");
        list.addObject().put("uriTemplate", SCHEME + "{project}/context/{topic}@{version}").put("name", "context-version")
                .put("title", "A context, one version")
                .put("description", "One version of a rule or decision (reading it counts as a recall)")
                .put("mimeType", "text/markdown");
        if (version.icons()) {
            list.forEach(t -> ((ObjectNode) t).set("icons", icons));
        }
        return result;
    }

    private ObjectNode read(JsonNode params, Caller caller, Optional<String> sessionId) {
        if (!params.path("uri").isTextual()) {
            throw new Refusal(INVALID_PARAMS, "resources/read needs `uri`, a string");
        }
        String uri = params.path("uri").asText("");
        String[] parsed = parse(uri);
        ObjectNode arguments = Json.object().put("project", parsed[0]).put("topic", parsed[1]);
        if (parsed[2] != null) {
            arguments.put("version", parsed[2]);
        }
        ToolOutcome outcome = invoker.invoke(invoker.find("recall_context").orElseThrow(), arguments, sessionId, caller);
        if (outcome instanceof ToolOutcome.Failure f) {
            throw new Refusal(f.kind() == ToolOutcome.Kind.TOOL_ERROR ? NOT_FOUND : INVALID_PARAMS, f.message());
        }
        ToolOutput output = ((ToolOutcome.Success) outcome).output();
        JsonNode context = output.json().orElseThrow();
        ObjectNode result = Json.object();
        result.putArray("contents").addObject()
                .put("uri", uri(parsed[0], parsed[1], parsed[2]))
                .put("mimeType", "text/markdown")
                .put("text", context.path("content").asText());
        return result;
    }

    /** @return project, topic and version (null for the latest) of a context URI */
    static String[] parse(String uri) {
        String rest = uri.startsWith(SCHEME) ? uri.substring(SCHEME.length()) : null;
        int slash = rest == null ? -1 : rest.indexOf("/context/");
        if (slash <= 0 || slash + "/context/".length() >= rest.length()) {
            throw new Refusal(INVALID_PARAMS, "`" + uri + "` is not a context URI: dementia://<project>/context/<topic>[@<version>]");
        }
        String project = decode(rest.substring(0, slash));
        String topicAndVersion = rest.substring(slash + "/context/".length());
        int at = topicAndVersion.lastIndexOf('@');
        String topic = decode(at < 0 ? topicAndVersion : topicAndVersion.substring(0, at));
        String version = at < 0 ? null : decode(topicAndVersion.substring(at + 1));
        try {
            ProjectName.validate(project);
        } catch (ProjectName.InvalidProjectNameException e) {
            throw new Refusal(INVALID_PARAMS, "`" + uri + "`: " + e.getMessage());
        }
        return new String[] {project, topic, version};
    }

    static String uri(String project, String topic, String version) {
        return SCHEME + encode(project) + "/context/" + encode(topic) + (version == null ? "" : "@" + encode(version));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refusal(INVALID_PARAMS, "bad percent-encoding in `" + s + "`");
        }
    }
}
