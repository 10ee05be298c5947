package cloud.dementia.server.tools;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A tool's successful result, in one form: data (a JSON object) or text. Each transport writes it once: {@code /execute}
 * puts the object itself (or the text) in its answer, MCP sends compact JSON text (or the text). Nothing is serialized
 * twice and nothing is pretty-printed: clients read it, people read it through their client.
 */
public final class ToolOutput {

    private final JsonNode json;
    private final String text;

    private ToolOutput(JsonNode json, String text) {
        this.json = json;
        this.text = text;
    }

    /** A text result (a listing, a formatted table). */
    public static ToolOutput text(String text) {
        return new ToolOutput(null, text);
    }

    /** A data result. */
    public static ToolOutput json(JsonNode object) {
        return new ToolOutput(object, null);
    }

    /** @return the data, when the result is data */
    public Optional<JsonNode> json() {
        return Optional.ofNullable(json);
    }

    /** @return the result as text: the text itself, or the data as compact JSON (serialized on each call: call once) */
    public String text() {
        return json == null ? text : Json.compact(json);
    }
}
