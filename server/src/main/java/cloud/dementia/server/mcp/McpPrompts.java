package cloud.dementia.server.mcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolOutput;

/**
 * The prompts a user can pick in a client: {@code start-session} runs {@code wake_up} and hands its reading to the
 * assistant as the first message; {@code end-session} asks the assistant for the handover that {@code sleep} keeps.
 */
final class McpPrompts {

    /** What {@code initialize} and {@code server/discover} tell every assistant: the loop, in a few lines. */
    static final String INSTRUCTIONS = """
            Dementia Cloud keeps a project's rules and decisions across conversations.
            1. Call wake_up first: it shows the rules to always check, the last handover and what changed.
            2. Before changing code, call check_contexts with what you are about to do, and follow the always_check rules it returns.
            3. When a rule or decision is agreed, save it with lock_context (a topic and its content); recall_context and search_contexts find it later.
            4. At the end, call sleep so the next session knows what was done and what is open.
            Work in one project: pass project="<name>" on each call, or call switch_project once per session.""";

    static final String START = "start-session";
    static final String END = "end-session";

    private final ToolInvoker invoker;
    private final ArrayNode icons;
    private final List<String> names = new ArrayList<>();

    McpPrompts(ToolInvoker invoker, ArrayNode icons) {
        this.invoker = invoker;
        this.icons = icons;
        if (invoker.find("wake_up").isPresent()) {
            names.add(START);
        }
        if (invoker.find("sleep").isPresent()) {
            names.add(END);
        }
    }

    boolean any() {
        return !names.isEmpty();
    }

    List<ObjectNode> list(McpRequest request) {
        List<ObjectNode> list = new ArrayList<>();
        for (String name : names) {
            ObjectNode p = Json.object().put("name", name);
            list.add(p);
            if (name.equals(START)) {
                p.put("title", "Start a session")
                        .put("description", "Wake up in a project: its always-check rules, the last handover and what changed, as the first message");
                p.putArray("arguments").addObject().put("name", "project").put("description", "The project to work in (default: the session's)")
                        .put("required", false);
            } else {
                p.put("title", "End the session")
                        .put("description", "Ask the assistant for the handover: what was done, what is open, what comes next, what was decided");
                p.putArray("arguments");
            }
            if (request.version().icons()) {
                p.set("icons", icons);
            }
        }
        return list;
    }

    /** @return whether the prompt exists and takes the argument */
    boolean takes(String prompt, String argument) {
        return START.equals(prompt) && names.contains(START) && "project".equals(argument);
    }

    ObjectNode get(String name, McpCall call) {
        JsonNode params = call.params();
        McpRequest request = call.request();
        if (!names.contains(name)) {
            throw McpError.invalidParams("Unknown prompt: " + name + " (there are " + String.join(", ", names) + ")");
        }
        JsonNode arguments = params.path("arguments");
        if (!arguments.isMissingNode() && !arguments.isNull() && !arguments.isObject()) {
            throw McpError.invalidParams("arguments of prompt " + name + " must be an object of strings");
        }
        ObjectNode result = Json.object();
        String text;
        if (name.equals(START)) {
            ObjectNode args = Json.object();
            JsonNode project = arguments.path("project");
            if (!project.isMissingNode() && !project.isNull() && !project.isTextual()) {
                throw McpError.invalidParams("argument `project` of prompt " + name + " must be a string");
            }
            Optional.ofNullable(project.textValue()).filter(p -> !p.isBlank()).ifPresent(p -> args.put("project", p));
            ToolOutcome outcome = invoker.invoke(invoker.find("wake_up").orElseThrow(), args, request.sessionId(), request.caller());
            String reading = switch (outcome) {
                case ToolOutcome.Success s -> text(s.output());
                case ToolOutcome.Failure f -> "wake_up failed: " + f.message();
            };
            result.put("description", "The project's state at the start of a session");
            text = "We are starting a work session. This is where the project stands (from wake_up):\n\n" + reading
                    + "\n\nFollow the always_check rules above. Before changing code, call check_contexts with what you are about to do.";
        } else {
            result.put("description", "The handover at the end of a session");
            text = """
                    We are ending this work session. Write the handover for the next one:
                    - summary: what was done, in a few sentences;
                    - open items: what is unfinished or broken;
                    - next steps: what to do first next time;
                    - decisions: what was agreed (save each lasting one with lock_context first).
                    Then call sleep to close the session.""";
        }
        result.putArray("messages").addObject().put("role", "user").putObject("content").put("type", "text").put("text", text);
        return result;
    }

    private static String text(ToolOutput output) {
        return output.json().map(Json::compact).orElseGet(output::text);
    }
}
