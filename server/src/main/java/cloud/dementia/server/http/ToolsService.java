package cloud.dementia.server.http;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code GET /tools}: {@code {"tools": [{"name", "title", "description", "inputSchema", "annotations"}...], "count"}},
 * the tools the caller may call (a read-only key is not shown those it would be refused), as {@code /mcp} lists them.
 */
public final class ToolsService implements HttpService {

    public static final String PATH = "/tools";

    private final String forWriters;
    private final String forReaders;

    public ToolsService(ToolInvoker tools) {
        this.forWriters = body(tools.toolsFor(Caller.TRUSTED));
        this.forReaders = body(tools.toolsFor(Caller.READ_ONLY));
    }

    private static String body(List<ToolSpec> tools) {
        ArrayNode list = Json.array();
        tools.forEach(spec -> list.add(spec.listing()));
        ObjectNode answer = Json.object();
        answer.set("tools", list);
        answer.put("count", list.size());
        return Json.compact(answer);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get(PATH, this::list);
    }

    private void list(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(BearerAuth.caller(req.context()).readOnly() ? forReaders : forWriters);
    }
}
