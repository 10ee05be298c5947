package cloud.dementia.server.tools;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A tool's successful result: the text every client shows (JSON text where the original returned JSON) and, where it
 * helps clients, the same data as structured content.
 *
 * @param text       text content
 * @param structured structured content (a JSON object), if any
 */
public record ToolOutput(String text, Optional<JsonNode> structured) {

    public static ToolOutput text(String text) {
        return new ToolOutput(text, Optional.empty());
    }

    /** The JSON object as both text (pretty-printed) and structured content. */
    public static ToolOutput json(JsonNode object) {
        return new ToolOutput(Json.pretty(object), Optional.of(object));
    }
}
