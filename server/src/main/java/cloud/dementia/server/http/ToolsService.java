package cloud.dementia.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolHints;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code GET /tools}: {@code {"tools": [{"name", "title", "description", "inputSchema", "annotations"}...], "count"}},
 * the same tools, schemas and hints {@code /mcp} lists.
 */
public final class ToolsService implements HttpService {

    public static final String PATH = "/tools";

    private final String body;

    public ToolsService(ToolInvoker tools) {
        ArrayNode list = Json.array();
        for (ToolSpec spec : tools.tools()) {
            ObjectNode one = list.addObject();
            one.put("name", spec.name());
            if (spec.title() != null) {
                one.put("title", spec.title());
            }
            one.put("description", spec.description());
            one.set("inputSchema", spec.inputSchema());
            one.set("annotations", ToolHints.of(spec).toJson());
        }
        ObjectNode answer = Json.object();
        answer.set("tools", list);
        answer.put("count", list.size());
        this.body = Json.compact(answer);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get(PATH, this::list);
    }

    private void list(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(body);
    }
}
