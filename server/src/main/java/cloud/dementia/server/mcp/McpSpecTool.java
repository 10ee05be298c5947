package cloud.dementia.server.mcp;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.extensions.mcp.server.McpParameters;
import io.helidon.extensions.mcp.server.McpTool;
import io.helidon.extensions.mcp.server.McpToolAnnotations;
import io.helidon.extensions.mcp.server.McpToolRequest;
import io.helidon.extensions.mcp.server.McpToolResult;
import io.helidon.json.JsonObject;
import io.helidon.json.JsonValue;

import cloud.dementia.server.http.BearerAuth;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolHints;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/**
 * One {@link ToolSpec} as an MCP tool. A call runs through {@link ToolInvoker#invoke} with the MCP session id; a
 * success becomes the text (and the structured content, when the output has a JSON object), every failure a result
 * with {@code isError: true} and the message as text. Calls never end in a JSON-RPC error here: an unknown tool name
 * is answered by the extension before it gets this far.
 */
final class McpSpecTool implements McpTool {

    private final ToolSpec spec;
    private final ToolInvoker invoker;
    private final String schema;
    private final McpToolAnnotations annotations;

    McpSpecTool(ToolSpec spec, ToolInvoker invoker) {
        this.spec = spec;
        this.invoker = invoker;
        this.schema = Json.compact(spec.inputSchema());
        ToolHints hints = ToolHints.of(spec);
        this.annotations = McpToolAnnotations.builder()
                .title(spec.title() == null ? "" : spec.title())
                .readOnlyHint(hints.readOnly())
                .destructiveHint(hints.destructive())
                .idempotentHint(hints.idempotent())
                .openWorldHint(hints.openWorld())
                .build();
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public Optional<String> title() {
        return Optional.ofNullable(spec.title());
    }

    @Override
    public String description() {
        return spec.description();
    }

    @Override
    public String schema() {
        return schema;
    }

    @Override
    public Optional<McpToolAnnotations> annotations() {
        return Optional.of(annotations);
    }

    @Override
    public McpToolResult tool(McpToolRequest request) {
        Optional<ObjectNode> arguments = arguments(request.arguments());
        if (arguments.isEmpty()) {
            return error("arguments of " + spec.name() + " must be a JSON object");
        }
        Optional<String> sessionId = request.requestContext().get(McpEndpoint.SESSION_ID, String.class);
        ToolOutcome outcome = invoker.invoke(spec, arguments.get(), sessionId, BearerAuth.caller(request.requestContext()));
        return switch (outcome) {
            case ToolOutcome.Success success -> result(success.output());
            case ToolOutcome.Failure failure -> error(failure.message());
        };
    }

    /** The arguments as a Jackson object: empty when none were sent, nothing when they are not an object. */
    static Optional<ObjectNode> arguments(McpParameters parameters) {
        if (parameters.isEmpty()) {
            return Optional.of(Json.object());
        }
        JsonNode node = jackson(parameters.as(JsonValue.class).get());
        return node instanceof ObjectNode object ? Optional.of(object) : Optional.empty();
    }

    /** A number as Jackson's parser would give it: whole numbers as integers, others as doubles. */
    private static JsonNode number(java.math.BigDecimal n) {
        if (n.scale() <= 0) {
            java.math.BigInteger whole = n.toBigIntegerExact();
            return whole.bitLength() < 32 ? JsonNodeFactory.instance.numberNode(whole.intValue())
                    : whole.bitLength() < 64 ? JsonNodeFactory.instance.numberNode(whole.longValue())
                    : JsonNodeFactory.instance.numberNode(whole);
        }
        return JsonNodeFactory.instance.numberNode(n.doubleValue());
    }

    /** The extension's parsed JSON as the tools' JSON, node by node (not printed and parsed again). */
    static JsonNode jackson(JsonValue value) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (value.type()) {
            case OBJECT -> {
                ObjectNode object = nodes.objectNode();
                JsonObject source = value.asObject();
                for (String key : source.keysAsStrings()) {
                    object.set(key, jackson(source.value(key).orElseThrow()));
                }
                yield object;
            }
            case ARRAY -> {
                ArrayNode array = nodes.arrayNode();
                value.asArray().values().forEach(v -> array.add(jackson(v)));
                yield array;
            }
            case STRING -> nodes.textNode(value.asString().value());
            case NUMBER -> number(value.asNumber().bigDecimalValue());
            case BOOLEAN -> nodes.booleanNode(value.asBoolean().value());
            case NULL -> nodes.nullNode();
            case UNKNOWN -> Json.parse(value.toString());
        };
    }

    /** One text content: the text, or the data as compact JSON (no structured copy of the same data beside it). */
    private static McpToolResult result(ToolOutput output) {
        return McpToolResult.builder().addTextContent(output.text()).build();
    }

    private static McpToolResult error(String message) {
        return McpToolResult.builder().addTextContent(message).error(true).build();
    }
}
