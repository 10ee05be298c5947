package cloud.dementia.server.memory;

import java.util.ArrayList;
import java.util.List;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.Memory;
import cloud.dementia.db.store.ReadOnlyQueries;
import cloud.dementia.db.store.SchemaCatalog;
import cloud.dementia.db.store.Sessions;
import cloud.dementia.server.tools.ProjectResolver;
import cloud.dementia.server.tools.ToolSpec;

/** Every tool of the original server, built over one pool registry. */
public final class MemoryTools {

    /** Session id used for calls that come without an MCP session ({@code /execute}). */
    static final String NO_SESSION = "http";

    private MemoryTools() {
    }

    /** @return the tools over a memory store without a model (search by words and trigrams) */
    public static List<ToolSpec> create(PoolRegistry registry) {
        return create(Memory.withoutModel(registry));
    }

    public static List<ToolSpec> create(Memory memory) {
        PoolRegistry registry = memory.registry();
        Projects projects = memory.projects();
        Contexts contexts = memory.contexts();
        Sessions sessions = memory.sessions();
        ProjectResolver resolver = new ProjectResolver(projects, memory.mcpSessions(), sessions);
        List<ToolSpec> tools = new ArrayList<>();
        tools.addAll(new ProjectTools(projects, resolver, contexts, sessions, memory.transfer(), memory.mcpSessions()).specs());
        tools.addAll(new SessionTools(resolver, contexts, sessions).specs());
        tools.addAll(new ContextTools(resolver, contexts, sessions).specs());
        tools.addAll(new DatabaseTools(resolver, new ReadOnlyQueries(registry), new SchemaCatalog(registry), contexts, sessions).specs());
        return tools;
    }
}
