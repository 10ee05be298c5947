package cloud.dementia.server.mcp;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.node.ArrayNode;

import cloud.dementia.server.tools.Json;

/** The server's icon (2025-11-25 on): a small SVG, inline as a data URI, so a client needs no second request to show it. */
final class McpIcon {

    private static final String SVG = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
            + "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1f3a5f\"/>"
            + "<path d=\"M9 8h7a8 8 0 0 1 0 16H9z\" fill=\"none\" stroke=\"#e8eef6\" stroke-width=\"3\"/>"
            + "<circle cx=\"16\" cy=\"16\" r=\"2.5\" fill=\"#f2b134\"/></svg>";

    private McpIcon() {
    }

    /** @return a new list holding the icon */
    static ArrayNode icons() {
        ArrayNode icons = Json.array();
        icons.addObject()
                .put("src", "data:image/svg+xml;base64," + Base64.getEncoder().encodeToString(SVG.getBytes(StandardCharsets.UTF_8)))
                .put("mimeType", "image/svg+xml")
                .putArray("sizes").add("any");
        return icons;
    }
}
