package cloud.dementia.server;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;


import io.helidon.common.Size;
import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.checks.HealthChecks;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.observe.health.HealthObserver;

import cloud.dementia.admin.AdminConsole;
import cloud.dementia.db.EmbeddedDatabase;
import cloud.dementia.db.pool.IdleCleanup;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.ApiKeyStore;
import cloud.dementia.db.store.CredentialStore;
import cloud.dementia.db.store.Memory;
import cloud.dementia.db.search.Embedder;
import cloud.dementia.db.search.Traffic;
import cloud.dementia.server.search.MiniLmEmbedder;
import cloud.dementia.db.store.PoolSizeStore;
import cloud.dementia.server.auth.AccessTokens;
import cloud.dementia.server.auth.Credentials;
import cloud.dementia.server.auth.ProtectedResource;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.http.BearerAuth;
import cloud.dementia.server.http.BodyLimit;
import cloud.dementia.server.http.ExecuteService;
import cloud.dementia.server.http.NulCheck;
import cloud.dementia.server.http.OriginCheck;
import cloud.dementia.server.http.RequestDeadline;
import cloud.dementia.server.http.ResourceMetadataService;
import cloud.dementia.server.http.ToolsService;
import cloud.dementia.server.jobs.IdleCleanupJob;
import cloud.dementia.server.mcp.McpEndpoint;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.observe.DatabaseHealthCheck;
import cloud.dementia.server.observe.HttpMeters;
import cloud.dementia.server.observe.Observability;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolSpec;

/**
 * The running service: database (embedded or external), pool registry, credentials, idle-cleanup schedule and the
 * HTTP server. {@link #start} wires it top to bottom; {@link #stop} takes it down in the reverse order.
 */
public final class DementiaServer {

    private static final Logger LOG = Logger.getLogger(DementiaServer.class.getName());
    /** How long in-flight requests may run on after a stop was asked for. */
    public static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    private final Settings settings;
    private final Database database;
    private final Observability observability;
    private final PoolRegistry registry;
    private final Credentials credentials;
    private final IdleCleanup cleanup;
    private final IdleCleanupJob cleanupJob;
    private final ToolInvoker tools;
    private final Optional<AccessTokens> tokens;
    private final WebServer webServer;
    private final Memory memory;
    private final McpEndpoint mcp;
    private volatile boolean stopped;
    private final java.util.concurrent.CountDownLatch stopDone = new java.util.concurrent.CountDownLatch(1);

    private DementiaServer(Settings settings, Database database, Observability observability, Credentials credentials, IdleCleanup cleanup,
                           IdleCleanupJob cleanupJob, ToolInvoker tools, Optional<AccessTokens> tokens, WebServer webServer, Memory memory,
                           McpEndpoint mcp) {
        this.memory = memory;
        this.mcp = mcp;
        this.settings = settings;
        this.database = database;
        this.observability = observability;
        this.registry = database.registry();
        this.credentials = credentials;
        this.cleanup = cleanup;
        this.cleanupJob = cleanupJob;
        this.tools = tools;
        this.tokens = tokens;
        this.webServer = webServer;
    }

    /**
     * Starts the service with every tool of the memory server.
     *
     * @throws StartupException with one line that says what is wrong
     */
    public static DementiaServer start(Settings settings) {
        return start(settings, MemoryTools::create);
    }

    /**
     * Starts the service with the given tools, served on {@code /mcp}, {@code /execute} and {@code /tools}.
     *
     * @param tools the tools, made from the memory store over the started pool registry
     * @throws StartupException with one line that says what is wrong
     */
    public static DementiaServer start(Settings settings, Function<Memory, List<ToolSpec>> tools) {
        // before anything that takes time or holds something (the embedded database's lock): a taken port ends the start at once
        checkPortFree(settings.port());
        Observability observability = new Observability(settings.metricsApplication());
        Database database;
        try {
            database = Database.open(settings, observability.registry());
        } catch (StartupException e) {
            observability.close();
            throw e;
        }
        PoolRegistry registry = database.registry();
        Credentials credentials;
        ApiKeyStore keys = new ApiKeyStore(registry);
        try {
            registry.rememberSizesIn(new PoolSizeStore(registry));
            credentials = Credentials.settle(settings.apiKeys(), settings.adminUser(), settings.adminPassword(), new CredentialStore(registry),
                    Optional.of(keys));
        } catch (RuntimeException e) {
            database.close();
            observability.close();
            throw new StartupException("database: reading the pool sizes and credentials of the control schema `" + ControlSchema.NAME
                    + "` failed: " + Database.rootMessage(e), 3, e);
        }
        ToolInvoker invoker;
        Optional<Embedder> model = settings.embeddings() ? Optional.of(MiniLmEmbedder.create()) : Optional.empty();
        Traffic traffic = new Traffic();
        Memory memory = Memory.open(registry, model, settings.vectorCacheBytes(), traffic);
        observability.watch(memory);
        try {
            invoker = new ToolInvoker(tools.apply(memory), observability.registry(), traffic);
        } catch (RuntimeException e) {
            memory.close();
            database.close();
            observability.close();
            throw new StartupException("tools: the tool catalog cannot be built: " + Database.rootMessage(e), 1, e);
        }
        IdleCleanup cleanup = new IdleCleanup(registry, settings.idleCleanupEvery(), settings.pools().idleMax());
        SessionGuard sessions = new SessionGuard(memory.mcpSessions(), settings.sessionIdle());
        IdleCleanupJob job = new IdleCleanupJob(cleanup, registry.housekeeper(), sessions::forgetIdle);

        List<HealthCheck> checks = List.of(new DatabaseHealthCheck(registry).exportTo(observability.registry()), HealthChecks.deadlockCheck());
        HealthObserver health = HealthObserver.builder().details(true).useSystemServices(false).healthChecks(checks).build();
        // OAuth (DEMENTIA_OAUTH_ISSUER): access tokens beside the API keys, on the routes a user's assistant calls
        Optional<AccessTokens> tokens = settings.oauth().map(AccessTokens::new);
        BearerAuth auth = new BearerAuth(credentials, keys, path -> isProtected(path, settings.metricsAuth()),
                tokens, DementiaServer::takesToken, DementiaServer::isMetrics);
        OriginCheck origins = new OriginCheck(settings.allowedOrigins(), DementiaServer::isMcp);
        McpEndpoint mcp = new McpEndpoint(invoker, ProjectVersion.get(), sessions, memory.projects(), memory.contexts(), memory.mcpSessions());
        RequestDeadline deadline = new RequestDeadline(settings.headerTimeout(), settings.bodyTimeout(), registry.housekeeper());
        HttpRouting.Builder routing = HttpRouting.builder()
                // filters run before every route, the MCP feature's included: the request timer around everything,
                // so refusals are counted too, then each route's body limit, then origin, then the key
                .addFilter(new HttpMeters(observability.registry()))
                .addFilter(Observability::declareTextFormat)
                .addFilter(new BodyLimit(settings.maxBodyBytes(), settings.importMaxBytes(), AdminConsole::isImport))
                .addFilter(new NulCheck())
                // an import streams its body into its transaction: it is not read ahead, nor held to the body deadline
                .addFilter(deadline.bodyFilter(AdminConsole::isImport))
                .addFilter(origins)
                .addFilter(auth)
                // MCP (every version), which needs the caller the key filter found
                .register(mcp)
                .register(new ExecuteService(invoker, sessions), new ToolsService(invoker))
                // the observer's answer, under the route Prometheus configurations were written for
                .get(Observability.ALIAS, Observability::alias)
                .get("/health", (req, res) -> health(checks, res))
                // the operator console: its own login (an API key never opens it), CSRF tokens, security headers
                .register("/admin", AdminConsole.create(memory, cleanup, credentials::acceptsAdmin, new AdminAudit(registry)));
        // without OAuth the metadata route does not exist (404): a client then knows to use an API key
        settings.oauth().ifPresent(resource -> routing.register(new ResourceMetadataService(resource)));
        WebServer webServer;
        try {
            webServer = WebServer.builder()
                    .port(settings.port())
                    // responses go out as soon as they are written: without it a chunked response (every MCP answer) waits
                    // for the client's delayed ACK, about 40 ms, on every call of a kept-alive connection (Nagle's algorithm)
                    .connectionOptions(socket -> socket.tcpNoDelay(true))
                    // a body above the limit is refused with 413 as its length is known or as it streams past it: here
                    // the larger of the two limits, BodyLimit holds each route to its own
                    .maxPayloadSize(BodyLimit.serverLimit(settings.maxBodyBytes(), settings.importMaxBytes()))
                    // an MCP request is checked before the extension reads it, so it is buffered: up to the body limit
                    // and a request's line and headers must arrive within DEMENTIA_HEADER_TIMEOUT_MS, its body within
                    // DEMENTIA_BODY_TIMEOUT_MS (408 past either)
                    .addProtocol(Http1Config.builder().maxBufferedEntitySize(Size.create(settings.maxBodyBytes()))
                            .addReceiveListener(deadline.receiveListener())
                            .build())
                    .shutdownHook(false)
                    .shutdownGracePeriod(SHUTDOWN_GRACE)
                    .addFeature(ObserveFeature.builder().addObserver(health).addObserver(observability.observer())
                            .observersDiscoverServices(false).build())
                    .routing(routing)
                    .build()
                    .start();
            // Helidon does not throw when a listener cannot bind (a port taken between our check and its bind): it logs,
            // stops, and reports port -1
            if (!webServer.isRunning() || webServer.port() < 0) {
                webServer.stop();
                throw new IllegalStateException(portInUse(settings.port()));
            }
        } catch (RuntimeException e) {
            job.close();
            memory.close();
            database.close();
            observability.close();
            throw new StartupException("PORT=" + settings.port() + ": cannot start the HTTP server: " + Database.rootMessage(e), 2, e);
        }
        DementiaServer server = new DementiaServer(settings, database, observability, credentials, cleanup, job, invoker, tokens,
                webServer, memory, mcp);
        LOG.info(() -> "started: port=" + webServer.port() + " database=" + database.target().describe() + " postgres=" + database.version()
                + " budget=" + settings.pools().budget() + " tools=" + invoker.tools().size());
        return server;
    }

    /**
     * Binds the port once and lets it go, as the web server will bind it ({@code SO_REUSEADDR}, all addresses): a port
     * another process listens on is refused here, one left in TIME_WAIT by an earlier run is not.
     *
     * @throws StartupException when the port cannot be listened on
     */
    private static void checkPortFree(int port) {
        if (port == 0) {
            return;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(port));
        } catch (java.net.BindException e) {
            throw new StartupException("PORT=" + port + ": " + (String.valueOf(e.getMessage()).contains("in use") ? portInUse(port)
                    : "cannot listen on it: " + e.getMessage() + " (ports below 1024 need privileges): set PORT to another port"), 2, e);
        } catch (IOException e) {
            throw new StartupException("PORT=" + port + ": cannot listen on it: " + e.getMessage(), 2, e);
        }
    }

    private static String portInUse(int port) {
        return "port " + port + " is in use by another process (another server, or this one started twice): stop it, "
                + "or set PORT to a free port";
    }

    /**
     * Deny by default: every path needs an API key except the ones listed here as public. The console ({@code /admin})
     * has its own login, health is for load balancers, the OAuth resource metadata is what a client reads before it has
     * a token, and metrics are public only when {@code DEMENTIA_METRICS_AUTH} is false. A new route is protected unless
     * it is added here.
     */
    static boolean isProtected(String path, boolean metricsAuth) {
        if (isMetrics(path)) {
            return metricsAuth;
        }
        boolean isPublic = under(path, "/health") || under(path, "/observe/health") || under(path, "/admin")
                || under(path, ProtectedResource.METADATA_PATH);
        return !isPublic;
    }

    /**
     * The routes that take an OAuth access token besides an API key: those of a user's assistant. Metrics stay for API
     * keys: they show every project's pools, an operator's view, not something a user's sign-in should open.
     */
    static boolean takesToken(String path) {
        return isMcp(path) || path.equals(ExecuteService.PATH) || path.equals(ToolsService.PATH);
    }

    /** The metrics routes: served from memory, so readable while the database does not answer. */
    static boolean isMetrics(String path) {
        return under(path, "/metrics") || under(path, "/observe/metrics");
    }

    /** @return whether the path is the given one or below it ({@code /admin}, {@code /admin/x}; not {@code /administrator}) */
    private static boolean under(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
    }


    static boolean isMcp(String path) {
        return path.equals(McpEndpoint.PATH) || path.startsWith(McpEndpoint.PATH + "/");
    }

    private static void health(List<HealthCheck> checks, ServerResponse res) {
        boolean up = true;
        List<Map<String, Object>> results = new java.util.ArrayList<>();
        for (HealthCheck check : checks) {
            HealthCheckResponse r = check.call();
            up &= r.status() == HealthCheckResponse.Status.UP;
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", check.name());
            one.put("status", r.status().name());
            if (!r.details().isEmpty()) {
                one.put("data", r.details());
            }
            results.add(one);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("checks", results);
        try {
            res.status(up ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503)
                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                    .send(Json.MAPPER.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the welcome text says of a Citus cluster: its version and how many workers hold schemas. */
    private record ClusterLine(String version, int workers) {
    }

    private Optional<ClusterLine> cluster() {
        try {
            if (!memory.projects().citus()) {
                return Optional.empty();
            }
            return cloud.dementia.db.store.CitusCluster.of(registry).map(c -> new ClusterLine(c.version(), c.workers().size()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Writes the URLs (and, on first run, the generated secrets) for the person who started the server. */
    public void printWelcome(PrintStream out) {
        String base = "http://localhost:" + port();
        StringBuilder text = new StringBuilder()
                .append("Dementia Cloud is running.\n")
                .append("  MCP endpoint:  ").append(base).append("/mcp\n")
                .append("  Console:       ").append(base).append("/admin\n")
                .append("  Health:        ").append(base).append("/health\n")
                .append("  Metrics:       ").append(base).append("/metrics").append(settings.metricsAuth() ? " (bearer API key)" : "").append('\n')
                .append("  Database:      ").append(database.embedded().map(e -> "embedded PostgreSQL " + database.version() + " in " + e.clusterDir()
                        + " (127.0.0.1:" + e.port() + ")").orElse(database.target().describe() + " (PostgreSQL " + database.version() + ")"))
                .append('\n');
        cluster().ifPresent(c -> text.append("  Cluster:       Citus ").append(c.version()).append(" coordinator, ").append(c.workers()).append(c.workers() == 1
                ? " worker" : " workers").append(": each project's schema lives on one (schema-based sharding; /admin/api/cluster shows where)\n"));
        settings.oauth().ifPresent(o -> text.append("  OAuth:         access tokens of ").append(o.issuer()).append(" for ").append(o.publicUrl())
                .append(" (metadata: ").append(o.metadataUrl()).append(")\n"));
        database.embedded().filter(EmbeddedDatabase::created).ifPresent(e -> text.append("  New database:  nothing was found in ").append(settings.dataDir())
                .append(", so a new, empty one was created there (DEMENTIA_DATA_DIR).\n")
                .append("                 Expected your memories? Stop, and start again with DEMENTIA_DATA_DIR set to the folder you used before.\n"));
        Optional<String> newKey = credentials.firstRun().flatMap(Credentials.FirstRun::apiKey);
        Optional<String> newPassword = credentials.firstRun().flatMap(Credentials.FirstRun::adminPassword);
        if (newKey.isPresent() || newPassword.isPresent()) {
            text.append("First start: these secrets are shown once and stored only as hashes. Keep them now.\n");
            newKey.ifPresent(k -> text.append("  API key:       ").append(k).append('\n'));
            newPassword.ifPresent(p -> text.append("  Console login: ").append(credentials.adminUser()).append(" / ").append(p).append('\n'));
        }
        boolean storedKey = settings.apiKeys().isEmpty();
        boolean storedPassword = settings.adminPassword().isEmpty();
        // a paste line only with the real key: a placeholder such as $DEMENTIA_API_KEY pastes as a key nobody has
        newKey.ifPresentOrElse(k -> text.append("Add it to Claude Code (paste as is):\n")
                .append("  claude mcp add --transport http dementia ").append(base).append("/mcp --header \"Authorization: Bearer ")
                .append(k).append("\"\n"), () -> text.append("  Bearer key:    ").append(storedKey
                ? "the API key shown at this database's first start (only its hash is stored)"
                : "an API key of DEMENTIA_API_KEY(S) in this server's environment").append('\n'));
        if (newPassword.isEmpty()) {
            text.append("  Console user:  ").append(credentials.adminUser()).append(storedPassword
                    ? ", with the password shown at this database's first start" : ", with DEMENTIA_ADMIN_PASSWORD").append('\n');
        }
        if (storedKey || storedPassword) {
            text.append("Lost the key or the console password? Stop the server, then run: java -jar dementia-server.jar reset-credentials\n");
        }
        // one write, so log lines from other threads never land inside it and a reader sees all of it or none
        out.print(text);
        out.flush();
    }

    /** Stops accepting, lets in-flight requests finish (bounded), closes the pools, stops the embedded database. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        LOG.info("stopping: in-flight requests get up to " + SHUTDOWN_GRACE.toSeconds() + " s");
        // event streams end first (each told where its version can be), so that they do not hold the grace period
        mcp.close();
        webServer.stop();
        cleanupJob.close();
        memory.close();
        database.close();
        observability.close();
        tokens.ifPresent(DementiaServer::closeQuietly);
        LOG.info("stopped");
        stopDone.countDown();
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStopped() {
        try {
            stopDone.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int port() {
        return webServer.port();
    }

    public PoolRegistry registry() {
        return registry;
    }

    /** The tools served on {@code /mcp}, {@code /execute} and {@code /tools}. */
    public ToolInvoker tools() {
        return tools;
    }

    /** The memory store: projects, contexts, sessions, and the background embedder's backlog. */
    public Memory memory() {
        return memory;
    }

    public IdleCleanup cleanup() {
        return cleanup;
    }

    public Credentials credentials() {
        return credentials;
    }

    private static void closeQuietly(AccessTokens tokens) {
        try {
            tokens.close();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "closing the OAuth key cache failed: " + e.getMessage(), e);
        }
    }
}
