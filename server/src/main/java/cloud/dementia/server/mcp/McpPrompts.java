package cloud.dementia.server.mcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.extensions.mcp.server.McpPrompt;
import io.helidon.extensions.mcp.server.McpPromptArgument;
import io.helidon.extensions.mcp.server.McpPromptRequest;
import io.helidon.extensions.mcp.server.McpPromptResult;

import cloud.dementia.server.http.BearerAuth;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolOutput;

/**
 * The prompts a user can pick in a client: {@code start-session} runs {@code wake_up} and hands its reading to the
 * assistant as the first message; {@code end-session} asks the assistant for the handover that {@code sleep} keeps.
 */
final class McpPrompts {

    /** What {@code initialize} tells every assistant: the loop, in a few lines. */
    static final String INSTRUCTIONS = """
            Dementia Cloud keeps a project's rules and decisions across conversations.
            1. Call wake_up first: it shows the rules to always check, the last handover and what changed.
            2. Before changing code, call check_contexts with what you are about to do, and follow the always_check rules it returns.
            3. When a rule or decision is agreed, save it with lock_context (a topic and its content); recall_context and search_contexts find it later.
            4. At the end, call sleep so the next session knows what was done and what is open.
            Work in one project: pass project="<name>" on each call, or call switch_project once per session.""";

    private McpPrompts() {
    }

    /** @return the prompts over the invoker's tools ({@code start-session} only when there is a {@code wake_up}) */
    static List<McpPrompt> create(ToolInvoker invoker) {
        List<McpPrompt> prompts = new ArrayList<>();
        if (invoker.find("wake_up").isPresent()) {
            prompts.add(new StartSession(invoker));
        }
        if (invoker.find("sleep").isPresent()) {
            prompts.add(new EndSession());
        }
        return prompts;
    }

    private static final class StartSession implements McpPrompt {

        private final ToolInvoker invoker;

        StartSession(ToolInvoker invoker) {
            this.invoker = invoker;
        }

        @Override
        public String name() {
            return "start-session";
        }

        @Override
        public Optional<String> title() {
            return Optional.of("Start a session");
        }

        @Override
        public String description() {
            return "Wake up in a project: its always-check rules, the last handover and what changed, as the first message";
        }

        @Override
        public List<McpPromptArgument> arguments() {
            return List.of(McpPromptArgument.builder().name("project").description("The project to work in (default: the session's)")
                    .required(false).build());
        }

        @Override
        public McpPromptResult prompt(McpPromptRequest request) {
            ObjectNode arguments = Json.object();
            request.arguments().get("project").asString().filter(p -> !p.isBlank()).ifPresent(p -> arguments.put("project", p));
            Optional<String> sessionId = request.requestContext().get(McpEndpoint.SESSION_ID, String.class);
            ToolOutcome outcome = invoker.invoke(invoker.find("wake_up").orElseThrow(), arguments, sessionId,
                    BearerAuth.caller(request.requestContext()));
            String reading = switch (outcome) {
                case ToolOutcome.Success s -> text(s.output());
                case ToolOutcome.Failure f -> "wake_up failed: " + f.message();
            };
            return McpPromptResult.builder()
                    .description("The project's state at the start of a session")
                    .addTextContent("We are starting a work session. This is where the project stands (from wake_up):\n\n" + reading
                            + "\n\nFollow the always_check rules above. Before changing code, call check_contexts with what you are about to do.")
                    .build();
        }
    }

    private static final class EndSession implements McpPrompt {

        @Override
        public String name() {
            return "end-session";
        }

        @Override
        public Optional<String> title() {
            return Optional.of("End the session");
        }

        @Override
        public String description() {
            return "Ask the assistant for the handover: what was done, what is open, what comes next, what was decided";
        }

        @Override
        public List<McpPromptArgument> arguments() {
            return List.of();
        }

        @Override
        public McpPromptResult prompt(McpPromptRequest request) {
            return McpPromptResult.builder()
                    .description("The handover at the end of a session")
                    .addTextContent("""
                            We are ending this work session. Write the handover for the next one:
                            - summary: what was done, in a few sentences;
                            - open items: what is unfinished or broken;
                            - next steps: what to do first next time;
                            - decisions: what was agreed (save each lasting one with lock_context first).
                            Then call sleep to close the session.""")
                    .build();
        }
    }

    private static String text(ToolOutput output) {
        return output.json().map(Json::compact).orElseGet(output::text);
    }
}
