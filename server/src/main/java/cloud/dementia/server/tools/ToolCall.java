package cloud.dementia.server.tools;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.auth.Caller;

/**
 * One invocation: the arguments and the MCP session it came from (none for {@code /execute} without a session).
 * The accessors validate as they read, so a bad argument becomes a {@link ToolArgumentException} naming it.
 *
 * @param tool      tool name
 * @param arguments the arguments object
 * @param sessionId the MCP session id, if the call came over MCP
 * @param caller    whose API key the call came with
 */
public record ToolCall(String tool, ObjectNode arguments, Optional<String> sessionId, Caller caller) {

    /** A call from inside the process ({@link Caller#TRUSTED}). */
    public ToolCall(String tool, ObjectNode arguments, Optional<String> sessionId) {
        this(tool, arguments, sessionId, Caller.TRUSTED);
    }


    /** A required, non-blank string. */
    public String string(String name) {
        return optionalString(name).filter(s -> !s.isBlank())
                .orElseThrow(() -> new ToolArgumentException(name, "is required (a non-empty string)"));
    }

    public Optional<String> optionalString(String name) {
        JsonNode v = arguments.get(name);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw new ToolArgumentException(name, "must be a string, got " + v.getNodeType().name().toLowerCase());
        }
        return Optional.of(v.asText());
    }

    /** An optional string that must be one of the allowed values. */
    public Optional<String> choice(String name, Set<String> allowed) {
        Optional<String> v = optionalString(name);
        if (v.isPresent() && !allowed.contains(v.get())) {
            throw new ToolArgumentException(name, "must be one of " + String.join(", ", allowed.stream().sorted().toList())
                    + ", got `" + v.get() + "`");
        }
        return v;
    }

    public boolean bool(String name, boolean defaultValue) {
        JsonNode v = arguments.get(name);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isTextual() && (v.asText().equalsIgnoreCase("true") || v.asText().equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(v.asText());
        }
        throw new ToolArgumentException(name, "must be true or false");
    }

    public int integer(String name, int defaultValue, int min, int max) {
        JsonNode v = arguments.get(name);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        BigInteger n;
        if (v.isIntegralNumber()) {
            n = v.bigIntegerValue(); // as sent: a long would wrap 2^63 around to a negative number
        } else if (v.isTextual() && v.asText().matches("-?\\d{1,10}")) {
            n = new BigInteger(v.asText());
        } else {
            throw new ToolArgumentException(name, "must be a whole number");
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new ToolArgumentException(name, "must be between " + min + " and " + max + ", got " + n);
        }
        return n.intValueExact();
    }

    /** A list of strings given as a JSON array or as one comma-separated string (as the original accepted tags). */
    public List<String> stringList(String name) {
        JsonNode v = arguments.get(name);
        if (v == null || v.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            Arrays.stream(v.asText().split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(out::add);
        } else if (v.isArray()) {
            for (JsonNode item : v) {
                if (!item.isTextual()) {
                    throw new ToolArgumentException(name, "must be a list of strings");
                }
                if (!item.asText().isBlank()) {
                    out.add(item.asText().trim());
                }
            }
        } else {
            throw new ToolArgumentException(name, "must be a list of strings or a comma-separated string");
        }
        return out;
    }

    /** A required array of objects. */
    public List<ObjectNode> objects(String name) {
        JsonNode v = arguments.get(name);
        if (v == null || v.isNull() || !v.isArray()) {
            throw new ToolArgumentException(name, "is required (a list of objects)");
        }
        List<ObjectNode> out = new ArrayList<>();
        int i = 0;
        for (JsonNode item : v) {
            if (!item.isObject()) {
                throw new ToolArgumentException(name + "[" + i + "]", "must be an object");
            }
            out.add((ObjectNode) item);
            i++;
        }
        return out;
    }

    /** The raw argument, if given. */
    public Optional<JsonNode> raw(String name) {
        JsonNode v = arguments.get(name);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
    }

    /** A view of one item of an array argument, validated the same way. */
    public ToolCall item(String name, int index, ObjectNode item) {
        return new ToolCall(tool + ":" + name + "[" + index + "]", item, sessionId, caller);
    }
}
