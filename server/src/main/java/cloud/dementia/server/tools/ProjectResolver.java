package cloud.dementia.server.tools;

import java.util.Optional;

import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.McpSessions;
import cloud.dementia.db.store.Sessions;

/**
 * Which project a call works in: the explicit {@code project} argument, else the MCP session's project
 * ({@code switch_project}, kept in the control schema so every replica sees it), else {@code default}.
 */
public final class ProjectResolver {

    /** The project and where the choice came from. */
    public record Resolved(ProjectName project, String source) {
        public String schema() {
            return project.schema();
        }

        public String name() {
            return project.name();
        }
    }

    private final Projects projects;
    private final McpSessions mcpSessions;
    private final Sessions sessions;

    /**
     * @param mcpSessions the project each MCP session switched to
     * @param sessions    where a call with a session is counted, in the project it works in
     */
    public ProjectResolver(Projects projects, McpSessions mcpSessions, Sessions sessions) {
        this.mcpSessions = mcpSessions;
        this.projects = projects;
        this.sessions = sessions;
    }

    public Resolved resolve(ToolCall call) {
        Choice choice = choose(call);
        return new Resolved(open(call, choice.name(), "project"), choice.source());
    }

    /**
     * The project a call works in, chosen as {@link #resolve} chooses it, checked (the key's scope, the name's rule)
     * but not opened: for work that creates the project itself, as an import does only when it commits.
     *
     * @return the project's name
     */
    public String name(ToolCall call) {
        String name = choose(call).name();
        checkScope(call, name);
        try {
            return ProjectName.validate(name);
        } catch (ProjectName.InvalidProjectNameException e) {
            throw new ToolArgumentException("project", "is refused: " + e.getMessage());
        }
    }

    private record Choice(String name, String source) {
    }

    private Choice choose(ToolCall call) {
        Optional<String> explicit = call.optionalString("project").filter(s -> !s.isBlank());
        if (explicit.isPresent()) {
            return new Choice(explicit.get(), "argument");
        }
        Optional<String> bound = call.sessionId().flatMap(mcpSessions::sessionProject);
        if (bound.isPresent()) {
            return new Choice(bound.get(), "session");
        }
        if (!call.caller().mayReach(ProjectName.DEFAULT)) {
            throw new ToolForbiddenException(call.caller().credential() + " reaches " + call.caller().scope()
                    + ", not the default project: pass project=... or call switch_project first");
        }
        return new Choice(ProjectName.DEFAULT, "default");
    }

    /**
     * Refuses a project outside the caller's key's scope, before anything is opened or created.
     *
     * @throws ToolForbiddenException when the key does not reach the project
     */
    public static void checkScope(ToolCall call, String name) {
        if (!call.caller().mayReach(name)) {
            throw new ToolForbiddenException(call.caller().credential() + " does not reach project `" + name + "` (it reaches "
                    + call.caller().scope() + ")");
        }
    }

    /**
     * Opens a named project for a call: refused outside the key's scope; created on first use, except for a read-only
     * key, which opens existing projects only; a bad name is a bad argument. A call with a session is counted in the
     * project's session row here, where every call that works in a project passes once: the handover's tools_used and
     * the session's calls then hold every call, reading ones included. A read-only key's calls record nothing.
     */
    public ProjectName open(ToolCall call, String name, String argument) {
        checkScope(call, name);
        if (call.caller().readOnly() && projects.find(name).isEmpty()) {
            throw new ToolError("no project `" + name + "` (a read-only key does not create projects): list_projects shows the existing ones");
        }
        ProjectName project;
        try {
            project = projects.open(name);
        } catch (ProjectName.InvalidProjectNameException | Projects.ProjectNameTakenException e) {
            throw new ToolArgumentException(argument, "is refused: " + e.getMessage());
        }
        if (call.sessionId().isPresent() && !call.caller().readOnly()) {
            sessions.countCall(project.schema(), call.sessionId().get(), call.tool());
        }
        return project;
    }
}
