package cloud.dementia.server.mcp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.McpSessions;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;

/**
 * The memory server through MCP: every tool of the {@link ToolInvoker} (the same ones {@code /execute} and
 * {@code /tools} serve), the {@code start-session} and {@code end-session} prompts, every context as a resource,
 * completions of projects, topics and versions, and watching contexts ({@link ContextWatch}).
 */
public final class MemoryFeatures implements McpFeatures, AutoCloseable {

    static final String TITLE = "Dementia Cloud";
    static final String DESCRIPTION = "Versioned rules and decisions an assistant keeps across conversations, one PostgreSQL schema per project";
    /** The most resources one session or one listen may watch. */
    static final int MAX_WATCHED = 100;
    private static final Duration REFRESH = Duration.ofSeconds(1);

    private final String version;
    private final ArrayNode icons = McpIcon.icons();
    private final McpTools tools;
    private final McpPrompts prompts;
    private final McpResources resources;
    private final McpCompletions completions;
    private final ContextWatch watch;
    private final McpSessions sessions;

    /**
     * @param projects    the project registry, or {@code null} for a server without contexts (no resources)
     * @param contexts    the contexts, or {@code null}
     * @param sessions    where sessions of the 2025 versions keep their subscriptions, or {@code null} (none)
     */
    public MemoryFeatures(ToolInvoker invoker, String version, Projects projects, Contexts contexts, McpSessions sessions) {
        this.version = version;
        this.tools = new McpTools(invoker, icons);
        this.prompts = new McpPrompts(invoker, icons);
        boolean withContexts = projects != null && contexts != null && invoker.find("recall_context").isPresent();
        this.resources = withContexts ? new McpResources(invoker, projects, contexts).withIcons(icons) : null;
        this.completions = withContexts ? new McpCompletions(projects, contexts, prompts) : null;
        this.watch = withContexts ? new ContextWatch(projects, contexts) : null;
        this.sessions = withContexts ? sessions : null;
    }

    @Override
    public ObjectNode serverInfo(McpVersion v) {
        ObjectNode info = Json.object().put("name", McpProtocol.SERVER_NAME).put("version", version);
        if (v.titlesAndStructuredContent()) {
            info.put("title", TITLE);
        }
        if (v.icons()) {
            info.put("description", DESCRIPTION);
            info.set("icons", icons);
        }
        return info;
    }

    @Override
    public Optional<String> instructions() {
        return Optional.of(McpPrompts.INSTRUCTIONS);
    }

    @Override
    public boolean tools() {
        return tools.any();
    }

    @Override
    public List<ObjectNode> listTools(McpRequest request) {
        return tools.list(request);
    }

    @Override
    public Optional<JsonNode> toolSchema(String name) {
        return tools.schema(name);
    }

    @Override
    public ObjectNode callTool(String name, McpCall call) {
        return tools.call(name, call);
    }

    @Override
    public boolean prompts() {
        return prompts.any();
    }

    @Override
    public List<ObjectNode> listPrompts(McpRequest request) {
        return prompts.list(request);
    }

    @Override
    public ObjectNode getPrompt(String name, McpCall call) {
        return prompts.get(name, call);
    }

    @Override
    public boolean resources() {
        return resources != null;
    }

    @Override
    public ObjectNode listResources(McpCall call) {
        return resources.answer("resources/list", call);
    }

    @Override
    public ObjectNode listResourceTemplates(McpCall call) {
        return resources.answer("resources/templates/list", call);
    }

    @Override
    public ObjectNode readResource(String uri, McpCall call) {
        return resources.answer("resources/read", call);
    }

    @Override
    public boolean completions() {
        return completions != null;
    }

    @Override
    public ObjectNode complete(McpCall call) {
        return completions.complete(call.params(), call.request());
    }

    @Override
    public boolean subscriptions() {
        return watch != null;
    }

    @Override
    public void subscribe(String uri, boolean subscribe, McpRequest request) {
        String session = request.sessionId().orElseThrow(() -> new McpError(McpError.INVALID_REQUEST, "resources/subscribe needs a session"));
        if (sessions == null) {
            throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: resources/subscribe");
        }
        if (!subscribe) {
            sessions.unsubscribe(session, uri);
            return;
        }
        targets(List.of(uri), request);
        if (!sessions.subscribe(session, uri, MAX_WATCHED)) {
            throw McpError.invalidParams("this session watches " + MAX_WATCHED + " resources already: unsubscribe from one first");
        }
    }

    @Override
    public McpWatch watch(McpRequest request, Filter filter) {
        if (watch == null) {
            return McpFeatures.super.watch(request, filter);
        }
        List<ContextWatch.Target> fixed = filter == null ? List.of() : targets(filter.resourceSubscriptions(), request);
        ContextWatch.Subscription subscription = watch.subscribe();
        subscription.watch(fixed);
        ObjectNode honoured = Json.object();
        if (filter != null && !filter.resourceSubscriptions().isEmpty()) {
            filter.resourceSubscriptions().forEach(honoured.putArray("resourceSubscriptions")::add);
        }
        return new McpWatch() {
            private long refreshed;
            private boolean sessionGone;

            @Override
            public ObjectNode honoured() {
                return honoured;
            }

            @Override
            public Optional<ObjectNode> next(Duration wait) throws InterruptedException {
                if (filter == null && System.nanoTime() - refreshed > REFRESH.toNanos()) {
                    // what the session watches, as subscribed through any replica; a session ended or forgotten ends the watch
                    String session = request.sessionId().orElseThrow();
                    if (sessions == null || sessions.sessionOwner(session).isEmpty()) {
                        sessionGone = true;
                        return Optional.empty();
                    }
                    subscription.watch(subscribedBy(sessions.subscriptions(session), request));
                    refreshed = System.nanoTime();
                }
                return subscription.next(wait).map(uri -> {
                    ObjectNode n = Json.object().put("jsonrpc", "2.0").put("method", "notifications/resources/updated");
                    n.putObject("params").put("uri", uri);
                    return n;
                });
            }

            @Override
            public boolean open() {
                return !sessionGone && subscription.open();
            }

            @Override
            public void close() {
                subscription.close();
            }
        };
    }

    private List<ContextWatch.Target> subscribedBy(List<String> uris, McpRequest request) {
        List<ContextWatch.Target> targets = new ArrayList<>();
        for (String uri : uris) {
            try {
                targets.addAll(targets(List.of(uri), request));
            } catch (McpError e) {
                // a subscription the key may no longer see: not watched
            }
        }
        return targets;
    }

    /**
     * @return the URIs as watch targets: each must be a context URI of a project the caller's key reaches; a URI of
     *         one version is accepted and never changes
     * @throws McpError -32602 naming the first URI that is not
     */
    private List<ContextWatch.Target> targets(List<String> uris, McpRequest request) {
        if (uris.size() > MAX_WATCHED) {
            throw McpError.invalidParams("at most " + MAX_WATCHED + " resources may be watched at once (got " + uris.size() + ")");
        }
        List<ContextWatch.Target> targets = new ArrayList<>();
        for (String uri : uris) {
            String[] parsed;
            try {
                parsed = McpResources.parse(uri);
            } catch (McpResources.Refusal e) {
                throw McpError.invalidParams(e.getMessage());
            }
            if (!request.caller().mayReach(parsed[0])) {
                throw McpError.invalidParams("`" + uri + "`: " + request.caller().credential() + " does not reach project `" + parsed[0] + "`");
            }
            if (parsed[2] == null) {
                targets.add(new ContextWatch.Target(parsed[0], parsed[1], uri));
            }
        }
        return targets;
    }

    /** Stops watching contexts: every open watch ends. */
    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
