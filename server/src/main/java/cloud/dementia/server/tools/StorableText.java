package cloud.dementia.server.tools;

import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Refuses text PostgreSQL cannot store, before any tool sees it: a NUL character (PostgreSQL's text has none; it
 * answered "invalid byte sequence" from inside a transaction) and an unpaired UTF-16 surrogate (a JSON {@code \ud800}
 * escape with no partner; it would reach the database as {@code ?}). Every string in the arguments is checked, at
 * any depth, and the refusal names the argument by its path ({@code contexts[1].tags[0]}).
 */
public final class StorableText {

    private StorableText() {
    }

    static void check(ObjectNode arguments) {
        for (Iterator<Map.Entry<String, JsonNode>> it = arguments.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            check(field.getKey(), field.getValue(), true);
        }
    }

    /**
     * Checks a whole JSON value for unpaired surrogates only (what the MCP library's own parser cannot read).
     *
     * @param path the name of the value, or {@code ""} to name the fields of an object by themselves
     * @throws ToolArgumentException naming the path of the first bad string
     */
    public static void checkSurrogates(String path, JsonNode node) {
        if (path.isEmpty() && node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                check(field.getKey(), field.getValue(), false);
            }
        } else {
            check(path, node, false);
        }
    }

    private static void check(String path, JsonNode node, boolean nul) {
        if (node.isTextual()) {
            String problem = problem(node.textValue(), nul);
            if (problem != null) {
                throw new ToolArgumentException(path, problem);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                check(path + "[" + i + "]", node.get(i), nul);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String key = problem(field.getKey(), nul);
                if (key != null) {
                    throw new ToolArgumentException(path, "has a key that " + key);
                }
                check(path + "." + field.getKey(), field.getValue(), nul);
            }
        }
    }

    /** @return what is wrong with the text, or null */
    private static String problem(String text, boolean nul) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (nul && c == '\u0000') {
                return "contains a NUL character (\\u0000) at position " + i + ", which PostgreSQL cannot store";
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return "contains an unpaired surrogate (\\u" + Integer.toHexString(c) + ") at position " + i + ": not valid Unicode";
            }
            if (Character.isLowSurrogate(c)) {
                return "contains an unpaired surrogate (\\u" + Integer.toHexString(c) + ") at position " + i + ": not valid Unicode";
            }
        }
        return null;
    }
}
