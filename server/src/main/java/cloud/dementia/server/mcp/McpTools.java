package cloud.dementia.server.mcp;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code tools/list} and {@code tools/call}, the one path every MCP version's tool calls take (as {@code /execute}'s
 * do, through the same {@link ToolInvoker}). The list is the caller's: a read-only key is not offered the tools that
 * would refuse it. A call's failures are results with {@code isError} (a bad argument included, as 2025-11-25 wants of
 * input validation); only a tool that does not exist is a protocol error.
 */
final class McpTools {

    /** The 2025-11-25 rule for tool names: 1 to 128 of these characters. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    /** The dialect tool schemas are written in (the default of 2025-11-25, named so that older clients know too). */
    static final String SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

    private final ToolInvoker tools;
    private final ArrayNode icons;
    private final java.util.Map<String, List<ObjectNode>> lists = new java.util.concurrent.ConcurrentHashMap<>();

    McpTools(ToolInvoker tools, ArrayNode icons) {
        this.tools = tools;
        this.icons = icons;
        for (ToolSpec spec : tools.tools()) {
            if (!NAME.matcher(spec.name()).matches()) {
                throw new IllegalArgumentException("tool name `" + spec.name() + "` breaks MCP's rule " + NAME.pattern());
            }
        }
    }

    boolean any() {
        return !tools.tools().isEmpty();
    }

    /** @return the tools for the caller in its version, in a fixed order (built once per version and access level; not to be changed) */
    List<ObjectNode> list(McpRequest request) {
        boolean readOnly = request.caller().readOnly();
        return lists.computeIfAbsent(request.version().id() + (readOnly ? "/ro" : "/rw"), k -> tools.toolsFor(readOnly ? Caller.READ_ONLY : Caller.TRUSTED)
                .stream().map(spec -> listing(spec, request.version())).toList());
    }

    Optional<JsonNode> schema(String name) {
        return tools.find(name).map(ToolSpec::inputSchema);
    }

    private ObjectNode listing(ToolSpec spec, McpVersion version) {
        ObjectNode one = spec.listing();
        if (version.icons() && !one.get("inputSchema").has("$schema")) {
            // 2020-12 is 2025-11-25's default dialect; named, so that a validator need not know the version
            ObjectNode schema = one.get("inputSchema").deepCopy();
            schema.put("$schema", SCHEMA_DIALECT);
            one.set("inputSchema", schema);
        }
        if (spec.title() != null) {
            // clients of 2025-03-26 read a tool's title from its annotations
            ((ObjectNode) one.get("annotations")).put("title", spec.title());
        }
        if (version.icons()) {
            one.set("icons", icons);
        }
        return one;
    }

    ObjectNode call(String name, McpCall call) {
        Optional<ToolSpec> spec = tools.find(name);
        if (spec.isEmpty()) {
            throw McpError.invalidParams("Unknown tool: " + name);
        }
        JsonNode arguments = call.params().path("arguments");
        if (!arguments.isMissingNode() && !arguments.isNull() && !arguments.isObject()) {
            return result("arguments of " + spec.get().name() + " must be a JSON object", true);
        }
        ObjectNode args = arguments.isObject() ? (ObjectNode) arguments : Json.object();
        McpRequest request = call.request();
        if (McpConfirmation.ASKED.contains(spec.get().name()) && ToolInvoker.allows(request.caller(), spec.get()) && call.clientCan("elicitation")) {
            Optional<ObjectNode> notConfirmed = McpConfirmation.confirm(spec.get(), args, call);
            if (notConfirmed.isPresent()) {
                return notConfirmed.get();
            }
        }
        return switch (tools.invoke(spec.get(), args, request.sessionId(), request.caller())) {
            case ToolOutcome.Success success -> result(success.output().text(), false);
            case ToolOutcome.Failure failure -> result(failure.message(), true);
        };
    }

    static ObjectNode result(String text, boolean error) {
        ObjectNode result = Json.object();
        result.putArray("content").addObject().put("type", "text").put("text", text);
        result.put("isError", error);
        return result;
    }
}
