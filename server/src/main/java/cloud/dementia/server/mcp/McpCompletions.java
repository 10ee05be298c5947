package cloud.dementia.server.mcp;

import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.tools.Json;

/**
 * {@code completion/complete}: what a user may type for a prompt's argument or a resource template's variable. The
 * {@code project} of {@code start-session} and of the context URIs completes to the projects the caller's key reaches;
 * a context URI's {@code topic} to the topics of the project already chosen ({@code context.arguments.project}), and
 * its {@code version} to that topic's versions. Values start with what was typed (case ignored), at most 100.
 */
final class McpCompletions {

    static final int MAX = 100;

    private final Projects projects;
    private final Contexts contexts;
    private final McpPrompts prompts;

    McpCompletions(Projects projects, Contexts contexts, McpPrompts prompts) {
        this.projects = projects;
        this.contexts = contexts;
        this.prompts = prompts;
    }

    ObjectNode complete(JsonNode params, McpRequest request) {
        JsonNode ref = params.path("ref");
        String argument = params.path("argument").path("name").asText("");
        JsonNode value = params.path("argument").path("value");
        if (!ref.isObject() || !params.path("argument").isObject() || argument.isEmpty() || !(value.isTextual() || value.isMissingNode())) {
            throw McpError.invalidParams("completion/complete needs `ref` (ref/prompt or ref/resource) and `argument` {name, value}");
        }
        String typed = value.asText("");
        JsonNode chosen = params.path("context").path("arguments");
        Stream<String> values = switch (ref.path("type").asText("")) {
            case "ref/prompt" -> {
                String prompt = ref.path("name").asText("");
                if (!prompts.takes(prompt, argument)) {
                    throw McpError.invalidParams("prompt `" + prompt + "` has no argument `" + argument + "` to complete");
                }
                yield projectNames(request.caller());
            }
            case "ref/resource" -> {
                String uri = ref.path("uri").asText("");
                if (!uri.startsWith(McpResources.SCHEME + "{project}/context/{topic}")) {
                    throw McpError.invalidParams("`" + uri + "` is not one of this server's resource templates");
                }
                yield switch (argument) {
                    case "project" -> projectNames(request.caller());
                    case "topic" -> topics(request.caller(), chosen.path("project").asText(""));
                    case "version" -> versions(request.caller(), chosen.path("project").asText(""), chosen.path("topic").asText(""));
                    default -> throw McpError.invalidParams("template `" + uri + "` has no variable `" + argument + "`");
                };
            }
            default -> throw McpError.invalidParams("ref.type must be ref/prompt or ref/resource");
        };
        String prefix = typed.toLowerCase(Locale.ROOT);
        List<String> matching = values.filter(v -> v.toLowerCase(Locale.ROOT).startsWith(prefix)).toList();
        ObjectNode result = Json.object();
        ObjectNode completion = result.putObject("completion");
        matching.stream().limit(MAX).forEach(completion.putArray("values")::add);
        completion.put("total", matching.size());
        completion.put("hasMore", matching.size() > MAX);
        return result;
    }

    private Stream<String> projectNames(Caller caller) {
        return projects.list().stream().map(Projects.Project::name).filter(caller::mayReach);
    }

    private Stream<String> topics(Caller caller, String project) {
        return registered(caller, project).map(p -> contexts.labels(p.schema()).stream().map(Contexts.LabelSummary::label))
                .orElse(Stream.empty());
    }

    private Stream<String> versions(Caller caller, String project, String topic) {
        return registered(caller, project).map(p -> contexts.versions(p.schema(), topic).stream()).orElse(Stream.empty());
    }

    private java.util.Optional<Projects.Project> registered(Caller caller, String project) {
        return project.isEmpty() || !caller.mayReach(project) ? java.util.Optional.empty() : projects.find(project);
    }
}
