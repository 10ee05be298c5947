package cloud.dementia.server.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.admin.StrictJson;

/** The server's JSON, in the service's one strict setup ({@link StrictJson}). */
public final class Json {

    public static final ObjectMapper MAPPER = StrictJson.builder().build();

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    public static String compact(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the value as compact JSON in UTF-8, ready to send */
    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads one JSON value from a stream (a request body) without copying it into a string first. */
    public static JsonNode parse(java.io.InputStream in) {
        try {
            JsonNode node = MAPPER.readTree(in);
            return node == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(problem(e), e);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading the request body: " + e.getMessage(), e);
        }
    }

    public static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(problem(e), e);
        }
    }

    /**
     * What is wrong with a body, and where: {@code argument `text`: not valid JSON: Invalid UTF-8 start byte 0xff} when
     * the parser was inside a tool's arguments ({@code /arguments/...} of {@code /execute}, {@code /params/arguments/...}
     * of MCP), else the path of the value it was reading.
     */
    public static String problem(JsonProcessingException e) {
        String what = "not valid JSON: " + e.getOriginalMessage();
        if (!(e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser parser)) {
            return what;
        }
        String pointer = parser.getParsingContext().pathAsPointer().toString();
        for (String prefix : new String[] {"/params/arguments/", "/arguments/"}) {
            if (pointer.startsWith(prefix)) {
                return "argument `" + pointer.substring(prefix.length()).replace('/', '.') + "`: " + what;
            }
        }
        return pointer.isEmpty() ? what : what + " (at " + pointer + ")";
    }

    public static JsonNode valueToTree(Object value) {
        return MAPPER.valueToTree(value);
    }
}
