package cloud.dementia.server.mcp;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code tools/call} answered on the request's own thread from the body the gate already parsed, in the same shape
 * the MCP extension gives ({@code {"content":[{"type":"text","text":...}],"isError":...}}). Why: measured with the
 * load tool, the extension's per-request work (a second parse into JSON-P, its session, transport and feature objects,
 * a JSON-P copy of the arguments, its serializer) cost more than the tool and the database together for a one-statement
 * tool, so {@code /mcp} ran at 0.73x {@code /execute} (ops/BENCHMARKS.md). What this does not cover stays the
 * extension's: a call that asks for progress ({@code _meta.progressToken}), an unknown tool, arguments that are not an
 * object; and every other method.
 */
final class McpToolCalls {

    private final ToolInvoker tools;

    McpToolCalls(ToolInvoker tools) {
        this.tools = tools;
    }

    /**
     * @param request one JSON-RPC {@code tools/call} request (with an id)
     * @return the whole JSON-RPC answer, or empty when the extension is to answer it
     */
    Optional<ObjectNode> answer(JsonNode request, String sessionId, Caller caller) {
        JsonNode params = request.path("params");
        JsonNode name = params.path("name");
        JsonNode arguments = params.path("arguments");
        if (!name.isTextual() || !(arguments.isMissingNode() || arguments.isObject()) || params.path("_meta").has("progressToken")) {
            return Optional.empty();
        }
        Optional<ToolSpec> spec = tools.find(name.asText());
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode args = arguments.isObject() ? (ObjectNode) arguments : Json.object();
        ToolOutcome outcome = tools.invoke(spec.get(), args, Optional.of(sessionId), caller);
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", request.get("id"));
        ObjectNode result = answer.putObject("result");
        ObjectNode content = result.putArray("content").addObject().put("type", "text");
        switch (outcome) {
            case ToolOutcome.Success success -> {
                content.put("text", success.output().text());
                result.put("isError", false);
            }
            case ToolOutcome.Failure failure -> {
                content.put("text", failure.message());
                result.put("isError", true);
            }
        }
        return Optional.of(answer);
    }
}
