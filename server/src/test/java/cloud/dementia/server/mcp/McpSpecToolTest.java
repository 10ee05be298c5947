package cloud.dementia.server.mcp;

import org.junit.jupiter.api.Test;

import io.helidon.json.JsonParser;

import cloud.dementia.server.tools.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class McpSpecToolTest {

    /** Arguments cross from the extension's JSON to the tools' node by node; they must read as if Jackson had parsed them. */
    @Test
    void argumentsConvertToTheSameTreeJacksonParses() {
        String text = "{\"topic\":\"a \\\"quoted\\\" \\u00e9 topic\",\"limit\":10,\"big\":12345678901,\"huge\":123456789012345678901234567890,"
                + "\"ratio\":0.25,\"float\":10.0,\"flag\":true,\"none\":null,\"tags\":[\"x\",1,[false]],\"nested\":{\"k\":{}}}";
        var converted = McpSpecTool.jackson(JsonParser.create(text).readJsonObject());
        assertEquals(Json.parse(text), converted);
        assertTrue(converted.get("limit").isInt(), "a whole number is an integer, as tools read limits");
        assertTrue(converted.get("big").isLong());
        assertTrue(converted.get("huge").isBigInteger());
        assertTrue(converted.get("float").isDouble(), "10.0 stays a floating-point number (not a whole one), as Jackson reads it");
    }
}
