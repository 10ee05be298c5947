package cloud.dementia.server.mcp;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code tools/list} answered for the caller: the tools it may call ({@link ToolInvoker#toolsFor}), in the shape the MCP
 * extension gives (each tool's {@code annotations} carry its title too), all on one page. The extension would list every
 * tool to everyone, and a read-only key would be offered tools that refuse it.
 */
final class McpToolList {

    private final ObjectNode forWriters;
    private final ObjectNode forReaders;

    McpToolList(ToolInvoker tools) {
        this.forWriters = result(tools.toolsFor(Caller.TRUSTED));
        this.forReaders = result(tools.toolsFor(Caller.READ_ONLY));
    }

    private static ObjectNode result(List<ToolSpec> specs) {
        ObjectNode result = Json.object();
        ArrayNode list = result.putArray("tools");
        for (ToolSpec spec : specs) {
            ObjectNode one = spec.listing();
            if (spec.title() != null) {
                ((ObjectNode) one.get("annotations")).put("title", spec.title());
            }
            list.add(one);
        }
        return result;
    }

    /** @return the whole JSON-RPC answer to one {@code tools/list} request (with an id) */
    ObjectNode answer(JsonNode request, Caller caller) {
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", request.get("id"));
        answer.set("result", caller.readOnly() ? forReaders : forWriters);
        return answer;
    }
}
