package cloud.dementia.server.tools;

import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Reading whole-number arguments: the range check names the value as it was sent. */
class ToolCallTest {

    private static ToolCall call(String arguments) {
        return new ToolCall("t", (ObjectNode) Json.parse(arguments), Optional.empty());
    }

    @Test
    void aNumberBeyondLongIsReportedAsSentNotWrappedAround() {
        // #9 defect 8: 2^63 was reported as "got -9223372036854775808"
        ToolArgumentException e = assertThrows(ToolArgumentException.class,
                () -> call("{\"limit\":9223372036854775808}").integer("limit", 10, 1, 100));
        assertEquals("argument `limit` must be between 1 and 100, got 9223372036854775808", e.getMessage());
        e = assertThrows(ToolArgumentException.class, () -> call("{\"limit\":-99999999999999999999}").integer("limit", 10, 1, 100));
        assertEquals("argument `limit` must be between 1 and 100, got -99999999999999999999", e.getMessage());
    }

    @Test
    void wholeNumbersInRangeAsNumbersOrTextAreRead() {
        assertEquals(42, call("{\"limit\":42}").integer("limit", 10, 1, 100));
        assertEquals(42, call("{\"limit\":\"42\"}").integer("limit", 10, 1, 100));
        assertEquals(10, call("{}").integer("limit", 10, 1, 100));
        assertThrows(ToolArgumentException.class, () -> call("{\"limit\":4.5}").integer("limit", 10, 1, 100));
        assertThrows(ToolArgumentException.class, () -> call("{\"limit\":101}").integer("limit", 10, 1, 100));
    }
}
