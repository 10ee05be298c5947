package cloud.dementia.db.store;

import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.search.BackgroundEmbedder;
import cloud.dementia.db.search.CachedVectorIndex;
import cloud.dementia.db.search.Embedder;
import cloud.dementia.db.search.EmbeddingBacklog;
import cloud.dementia.db.search.Meaning;
import cloud.dementia.db.search.Traffic;

/**
 * The memory store, built once at the composition root and handed to whoever needs a part of it: the project
 * registry, contexts, sessions, MCP sessions, import and export, and (with a model) the vector cache and the
 * background embedder.
 */
public final class Memory implements AutoCloseable {

    private final PoolRegistry registry;
    private final Projects projects;
    private final Contexts contexts;
    private final Sessions sessions;
    private final ProjectTransfer transfer;
    private final McpSessions mcpSessions;
    private final Optional<BackgroundEmbedder> embedder;
    private final Optional<CachedVectorIndex> vectors;

    private Memory(PoolRegistry registry, Projects projects, Optional<Embedder> model, long vectorCacheBytes, Traffic traffic) {
        this.registry = registry;
        this.projects = projects;
        this.embedder = model.map(m -> new BackgroundEmbedder(registry, projects, m, traffic));
        this.vectors = model.map(m -> new CachedVectorIndex(vectorCacheBytes));
        Meaning meaning = model.map(m -> new Meaning(m, vectors.orElseThrow(), embedder.orElseThrow()::added)).orElse(null);
        this.contexts = new Contexts(registry, meaning);
        this.sessions = new Sessions(registry);
        this.mcpSessions = new McpSessions(registry);
        this.transfer = new ProjectTransfer(registry, projects, contexts::wroteVersions, sessions::flush);
    }

    /**
     * @param model            the embedding model, or empty for search by words and trigrams only
     * @param vectorCacheBytes the bound on cached vectors ({@code DEMENTIA_VECTOR_CACHE_MB})
     * @param traffic          the tool calls being served, which the background embedder gives way to
     * @return the store, its background embedder started
     */
    public static Memory open(PoolRegistry registry, Optional<Embedder> model, long vectorCacheBytes, Traffic traffic) {
        Memory memory = new Memory(registry, new Projects(registry), model, vectorCacheBytes, traffic);
        memory.embedder.ifPresent(BackgroundEmbedder::start);
        memory.sessions.start();
        return memory;
    }

    /** @return a store without a model (search by words and trigrams) */
    public static Memory withoutModel(PoolRegistry registry) {
        return new Memory(registry, new Projects(registry), Optional.empty(), 0, new Traffic());
    }

    public PoolRegistry registry() {
        return registry;
    }

    public Projects projects() {
        return projects;
    }

    public Contexts contexts() {
        return contexts;
    }

    public Sessions sessions() {
        return sessions;
    }

    public ProjectTransfer transfer() {
        return transfer;
    }

    /** @return the MCP sessions: their owners and switched projects */
    public McpSessions mcpSessions() {
        return mcpSessions;
    }

    /** @return what the background embedder has left, by project ({@link EmbeddingBacklog#NONE} without a model) */
    public EmbeddingBacklog backlog() {
        return embedder.<EmbeddingBacklog>map(e -> e).orElse(EmbeddingBacklog.NONE);
    }

    /** @return the vector cache, when there is a model */
    public Optional<CachedVectorIndex> vectors() {
        return vectors;
    }

    /** Stops the background embedder (a batch being computed is stored first, bounded) and writes the counted session calls. */
    @Override
    public void close() {
        embedder.ifPresent(BackgroundEmbedder::close);
        sessions.close();
    }
}
