package cloud.dementia.server.memory;

import java.util.ArrayList;
import java.util.List;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
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

    public static List<ToolSpec> create(PoolRegistry registry) {
        Projects projects = new Projects(registry);
        ProjectResolver resolver = new ProjectResolver(projects);
        Contexts contexts = new Contexts(registry, cloud.dementia.server.search.MiniLmEmbedder.shared());
        Sessions sessions = new Sessions(registry);
        List<ToolSpec> tools = new ArrayList<>();
        tools.addAll(new ProjectTools(projects, resolver, contexts, sessions, registry).specs());
        tools.addAll(new SessionTools(resolver, contexts, sessions).specs());
        tools.addAll(new ContextTools(resolver, contexts, sessions).specs());
        tools.addAll(new DatabaseTools(resolver, new ReadOnlyQueries(registry), new SchemaCatalog(registry), contexts, sessions).specs());
        return tools;
    }
}
