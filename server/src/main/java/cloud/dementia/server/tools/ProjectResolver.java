package cloud.dementia.server.tools;

import java.util.Optional;

import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;

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

    public ProjectResolver(Projects projects) {
        this.projects = projects;
    }

    public Resolved resolve(ToolCall call) {
        Optional<String> explicit = call.optionalString("project").filter(s -> !s.isBlank());
        if (explicit.isPresent()) {
            return new Resolved(open(explicit.get(), "project"), "argument");
        }
        Optional<String> bound = call.sessionId().flatMap(projects::sessionProject);
        if (bound.isPresent()) {
            return new Resolved(open(bound.get(), "project"), "session");
        }
        return new Resolved(open(ProjectName.DEFAULT, "project"), "default");
    }

    /** Opens (creating on first use) a named project; a bad name is a bad argument. */
    public ProjectName open(String name, String argument) {
        try {
            return projects.open(name);
        } catch (ProjectName.InvalidProjectNameException | Projects.ProjectNameTakenException e) {
            throw new ToolArgumentException(argument, "is refused: " + e.getMessage());
        }
    }
}
