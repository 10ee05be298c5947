package cloud.dementia.server.memory;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ProjectName;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.ProjectTransfer;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.db.store.StoreRuleException;
import cloud.dementia.server.tools.InputSchema;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ProjectResolver;
import cloud.dementia.server.tools.ToolArgumentException;
import cloud.dementia.server.tools.ToolCall;
import cloud.dementia.server.tools.ToolError;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/** create_project, list_projects, get_project_info, delete_project, switch_project, get_active_project. */
final class ProjectTools {

    private final Projects projects;
    private final ProjectResolver resolver;
    private final Contexts contexts;
    private final Sessions sessions;
    private final ProjectTransfer transfer;
    private final cloud.dementia.db.store.McpSessions mcpSessions;

    ProjectTools(Projects projects, ProjectResolver resolver, Contexts contexts, Sessions sessions,
                 ProjectTransfer transfer, cloud.dementia.db.store.McpSessions mcpSessions) {
        this.mcpSessions = mcpSessions;
        this.projects = projects;
        this.resolver = resolver;
        this.contexts = contexts;
        this.sessions = sessions;
        this.transfer = transfer;
    }

    List<ToolSpec> specs() {
        return List.of(
                new ToolSpec("export_project", "Export project",
                        "The project's data as JSON Lines: sessions, every version of every context, archives, handovers and notes. "
                                + "import_project reads it back (here or on another server). Large projects: GET /admin/api/projects/<name>/export streams it.",
                        InputSchema.object().project().build(), true, false, this::exportProject),
                new ToolSpec("import_project", "Import project",
                        "Read JSON Lines from export_project into a project (created if needed), all or nothing; what is there already is skipped.",
                        InputSchema.object().string("jsonl", "The lines export_project wrote", true).project().build(), false, false,
                        this::importProject),
                new ToolSpec("create_project", "Create project",
                        "Create a project: its own PostgreSQL schema, isolated from every other project's memory.",
                        InputSchema.object().string("name", "Project name: 1-63 letters, digits, _, - or spaces", true).build(),
                        false, false, this::create),
                new ToolSpec("list_projects", "List projects", "List every project with its schema and counts.",
                        InputSchema.object().build(), true, false, this::list),
                new ToolSpec("get_project_info", "Project info",
                        "Statistics of a project: counts by priority, sizes, recent sessions and recent contexts.",
                        InputSchema.object().string("name", "Project name (default: the active project)", false).build(),
                        true, false, this::info),
                new ToolSpec("delete_project", "Delete project",
                        "Delete a project and all its memory. Without confirm=true it only says what would be deleted.",
                        InputSchema.object().string("name", "Project name", true)
                                .bool("confirm", "Really delete (the schema is dropped)", false).build(),
                        false, true, this::delete),
                new ToolSpec("switch_project", "Switch project",
                        "Make a project the default for this MCP session (other sessions are not affected).",
                        InputSchema.object().string("name", "Project name (created on first use)", true).build(),
                        false, false, this::switchProject),
                new ToolSpec("get_active_project", "Active project",
                        "The project calls of this session work in, and why (argument, session, or default).",
                        InputSchema.object().project().build(), true, false, this::active));
    }

    private ToolOutput exportProject(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        StringBuilder out = new StringBuilder();
        transfer.export(r.schema(), r.name(), line -> out.append(line).append('\n'));
        return ToolOutput.text(out.toString());
    }

    private ToolOutput importProject(ToolCall call) {
        String jsonl = call.string("jsonl");
        String name = resolver.name(call);
        ProjectTransfer.Imported imported;
        try {
            imported = transfer.importInto(name, jsonl.lines().iterator());
        } catch (StoreRuleException e) {
            throw new ToolArgumentException("jsonl", "is refused: " + e.getMessage());
        } catch (Projects.ProjectNameTakenException e) {
            throw new ToolArgumentException("project", "is refused: " + e.getMessage());
        }
        ObjectNode o = Json.object();
        o.put("project", name);
        ObjectNode added = o.putObject("added");
        imported.added().forEach(added::put);
        ObjectNode skipped = o.putObject("skipped");
        imported.skipped().forEach(skipped::put);
        o.put("message", "Imported into `" + name + "`: " + imported.added() + " added, " + imported.skipped() + " already there.");
        return ToolOutput.json(o);
    }

    private ToolOutput create(ToolCall call) {
        String name = call.string("name");
        validName(name);
        ProjectResolver.checkScope(call, name);
        boolean created;
        try {
            created = projects.create(name);
        } catch (Projects.ProjectNameTakenException e) {
            throw new ToolError(e.getMessage());
        }
        ObjectNode o = Json.object();
        o.put("project", name);
        o.put("schema", projects.find(name).map(Projects.Project::schema).orElse(null));
        o.put("created", created);
        o.put("message", created ? "Project `" + name + "` created." : "Project `" + name + "` already exists.");
        return ToolOutput.json(o);
    }

    private static String validName(String name) {
        try {
            return ProjectName.validate(name);
        } catch (ProjectName.InvalidProjectNameException e) {
            throw new cloud.dementia.server.tools.ToolArgumentException("name", "is refused: " + e.getMessage());
        }
    }

    private ToolOutput list(ToolCall call) {
        ObjectNode o = Json.object();
        ArrayNode list = o.putArray("projects");
        for (Projects.ProjectCounts p : projects.listWithCounts()) {
            if (!call.caller().mayReach(p.project().name())) {
                continue;
            }
            ObjectNode item = list.addObject();
            item.put("name", p.project().name());
            item.put("schema", p.project().schema());
            item.put("created_at", p.project().createdAt().toString());
            item.put("contexts", p.contexts());
            item.put("sessions", p.sessions());
            item.put("memory_entries", p.entries());
            if (p.lastActive() != null) {
                item.put("last_active", p.lastActive().toString());
            }
        }
        o.put("count", list.size());
        return ToolOutput.json(o);
    }

    private ToolOutput info(ToolCall call) {
        ProjectResolver.Resolved r = call.optionalString("name").filter(s -> !s.isBlank())
                .map(n -> existing(call, n)).orElseGet(() -> resolver.resolve(call));
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("schema", r.schema());
        o.set("stats", Views.stats(sessions.stats(r.schema())));
        ArrayNode recentSessions = o.putArray("recent_sessions");
        for (Sessions.Session s : sessions.recent(r.schema(), 5)) {
            recentSessions.addObject().put("id", s.id()).put("started_at", s.startedAt().toString())
                    .put("last_active", s.lastActive().toString()).put("calls", s.calls());
        }
        ArrayNode recent = o.putArray("recent_contexts");
        contexts.labels(r.schema()).stream()
                .sorted((a, b) -> b.lockedAt().compareTo(a.lockedAt())).limit(5)
                .forEach(l -> recent.add(Views.label(l)));
        return ToolOutput.json(o);
    }

    private ProjectResolver.Resolved existing(ToolCall call, String name) {
        validName(name);
        ProjectResolver.checkScope(call, name);
        if (projects.find(name).isEmpty()) {
            throw new ToolError("no project `" + name + "`: list_projects shows the existing ones");
        }
        return new ProjectResolver.Resolved(resolver.open(call, name, "name"), "argument");
    }

    private ToolOutput delete(ToolCall call) {
        String name = validName(call.string("name"));
        ProjectResolver.checkScope(call, name);
        boolean confirm = call.bool("confirm", false);
        Optional<Projects.Project> found = projects.find(name);
        if (found.isEmpty()) {
            throw new ToolError("no project `" + name + "`: list_projects shows the existing ones");
        }
        ObjectNode o = Json.object();
        o.put("project", name);
        o.put("schema", found.get().schema());
        if (!confirm) {
            Sessions.Stats stats = sessions.stats(found.get().schema());
            o.put("deleted", false);
            o.put("contexts", stats.contexts());
            o.put("sessions", stats.sessions());
            o.put("message", "This permanently deletes project `" + name + "` (" + stats.contexts() + " contexts, " + stats.sessions()
                    + " sessions). Call delete_project again with confirm=true to delete it.");
            return ToolOutput.json(o);
        }
        boolean deleted = projects.delete(name);
        o.put("deleted", deleted);
        o.put("message", "Project `" + name + "` deleted.");
        return ToolOutput.json(o);
    }

    private ToolOutput switchProject(ToolCall call) {
        String name = call.string("name");
        String session = call.sessionId().orElseThrow(() -> new ToolError(
                "switch_project binds a project to an MCP session and this call has none: pass project=... on each call, "
                        + "or send the Mcp-Session-Id header"));
        ProjectName project = resolver.open(call, name, "name");
        mcpSessions.bindSession(session, project.name());
        ObjectNode o = Json.object();
        o.put("project", project.name());
        o.put("schema", project.schema());
        o.put("session", session);
        o.put("message", "This session now works in project `" + project.name() + "`.");
        return ToolOutput.json(o);
    }

    private ToolOutput active(ToolCall call) {
        ProjectResolver.Resolved r = resolver.resolve(call);
        ObjectNode o = Json.object();
        o.put("project", r.name());
        o.put("schema", r.schema());
        o.put("source", r.source());
        call.sessionId().ifPresent(s -> o.put("session", s));
        return ToolOutput.json(o);
    }
}
