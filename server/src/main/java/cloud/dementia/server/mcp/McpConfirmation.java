package cloud.dementia.server.mcp;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolSpec;

/**
 * The user's confirmation before a tool that archives and deletes ({@code unlock_context}), asked through elicitation
 * when the client declared it can ask its user: in the 2025 versions as a request on the call's stream
 * ({@code elicitation/create}), in 2026-07-28 as an {@code input_required} result whose retry carries the answer and
 * the {@code requestState} that binds it to the same arguments and key. A client that cannot ask its user gets the
 * tool as before (its own arguments are the confirmation).
 */
final class McpConfirmation {

    /** The tools that ask first. */
    static final Set<String> ASKED = Set.of("unlock_context");
    static final String KEY = "confirm";
    static final Duration WAIT = Duration.ofMinutes(5);

    private McpConfirmation() {
    }

    /**
     * @return empty when the call may go ahead; else its result: the question ({@code input_required}) or why not
     */
    static Optional<ObjectNode> confirm(ToolSpec spec, ObjectNode args, McpCall call) {
        String question = question(spec, args);
        ObjectNode ask = Json.object().put("mode", "form").put("message", question);
        ObjectNode schema = ask.putObject("requestedSchema").put("type", "object");
        schema.putObject("properties").putObject(KEY).put("type", "boolean").put("title", "Go ahead")
                .put("description", "Yes to " + spec.name().replace('_', ' ') + " as asked");
        schema.putArray("required").add(KEY);
        JsonNode answer;
        if (call.version().stateless()) {
            String state = state(spec, args, call);
            Optional<JsonNode> given = call.inputResponse(KEY);
            if (call.requestState().isPresent() && !call.requestState().get().equals(state)) {
                throw McpError.invalidParams("requestState does not belong to these arguments: call " + spec.name() + " again without it");
            }
            if (given.isEmpty() || call.requestState().isEmpty()) {
                ObjectNode result = Json.object().put("resultType", "input_required");
                result.putObject("inputRequests").putObject(KEY).put("method", "elicitation/create").set("params", ask);
                result.put("requestState", state);
                return Optional.of(result);
            }
            answer = given.get();
        } else {
            ask.remove("mode"); // 2025-06-18 has form elicitation only, without a mode
            try {
                answer = call.ask("elicitation/create", ask, WAIT);
            } catch (McpError e) {
                return Optional.of(McpTools.result(spec.name() + " was not carried out: the confirmation asked of the user got no answer ("
                        + e.getMessage() + ")", true));
            }
        }
        if ("accept".equals(answer.path("action").asText()) && answer.path("content").path(KEY).asBoolean(false)) {
            return Optional.empty();
        }
        return Optional.of(McpTools.result(spec.name() + " was not carried out: the user did not confirm it ("
                + answer.path("action").asText("no answer") + ")", true));
    }

    private static String question(ToolSpec spec, ObjectNode args) {
        String topic = args.path("topic").asText("?");
        String version = args.path("version").asText("all");
        String project = args.path("project").asText("");
        boolean archive = args.path("archive").asBoolean(true);
        return "Unlock `" + topic + "` (" + ("all".equals(version) || version.isEmpty() ? "every version" : "version " + version) + ")"
                + (project.isEmpty() ? "" : " in project `" + project + "`") + "? It is " + (archive ? "archived, then " : "")
                + "deleted from the project's memory.";
    }

    /** @return the JSON with every object's keys in order: the same arguments give the same text, however they were sent */
    static String canonical(JsonNode node) {
        if (node.isObject()) {
            java.util.TreeMap<String, JsonNode> sorted = new java.util.TreeMap<>();
            node.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
            StringBuilder b = new StringBuilder("{");
            sorted.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(Json.compact(k)).append(':').append(canonical(v)));
            return b.append('}').toString();
        }
        if (node.isArray()) {
            StringBuilder b = new StringBuilder("[");
            node.forEach(v -> b.append(b.length() > 1 ? "," : "").append(canonical(v)));
            return b.append(']').toString();
        }
        return Json.compact(node);
    }

    /** @return what binds an answer to this call: the tool, its arguments and the key asking, hashed */
    private static String state(ToolSpec spec, ObjectNode args, McpCall call) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((spec.name() + '\u0000' + call.request().caller().owner() + '\u0000' + canonical(args)).getBytes(StandardCharsets.UTF_8));
            return "confirm-v1." + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
