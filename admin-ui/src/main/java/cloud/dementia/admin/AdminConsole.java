package cloud.dementia.admin;

import java.time.Clock;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.pool.IdleCleanup;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.store.Memory;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.ConsoleSessionStore;

/**
 * The operator console: register it at {@code /admin}. It serves the pages ({@code /admin}, {@code /admin/pools/...},
 * {@code /admin/physical}, {@code /admin/cleanup}, {@code /admin/audit}), their assets ({@code /admin/static/...},
 * from the jar) and the JSON API ({@code /admin/api/...}); pages and API call the same operations. Every response
 * carries the security headers (a Content-Security-Policy without inline script or style, no framing, no caching).
 *
 * <pre>{@code
 * routing.register("/admin", AdminConsole.create(registry, cleanup, credentials::acceptsAdmin, new AdminAudit(registry)));
 * }</pre>
 */
public final class AdminConsole implements HttpService {

    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private final Assets assets;
    private final Api api;
    private final Pages pages;

    private AdminConsole(Memory memory, IdleCleanup cleanup, AdminAuthenticator authenticator, AdminAudit audit, Clock clock) {
        PoolRegistry registry = memory.registry();
        PoolHistory history = new PoolHistory(registry::pools, registry::physical, clock);
        this.assets = new Assets();
        Operations operations = new Operations(memory, cleanup, audit);
        Reads reads = new Reads(registry, cleanup, audit, history, memory.backlog(), memory.projects(), operations::cluster);
        Access access = new Access(new Sessions(new ConsoleSessionStore(registry), clock), new LoginThrottle(clock), authenticator);
        this.api = new Api(reads, operations, access);
        this.pages = new Pages(reads, operations, access, new Templates(), assets);
        // the charts' history is sampled on the pool layer's one housekeeping thread; it stops when the registry closes
        history.start(registry.housekeeper());
    }

    /**
     * @param memory        the memory store, over the pools to show and steer
     * @param cleanup       idle cleanup (settings, history, run now)
     * @param authenticator checks the console login
     * @param audit         where every action is recorded
     * @return the console, to register at {@code /admin}
     */
    public static AdminConsole create(Memory memory, IdleCleanup cleanup, AdminAuthenticator authenticator, AdminAudit audit) {
        return new AdminConsole(memory, cleanup, authenticator, audit, Clock.systemUTC());
    }

    /**
     * @param path a request's path from the root ({@code /admin/api/projects/acme/import})
     * @return whether it is the import route, whose body is a project's lines streamed into the database (its own
     *         size limit, {@code DEMENTIA_IMPORT_MAX_BYTES}, where every other body has {@code DEMENTIA_MAX_BODY_BYTES})
     */
    public static boolean isImport(String path) {
        return path.startsWith("/admin/api") && Api.isImport(path.substring("/admin/api".length()));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(AdminConsole::securityHeaders)
                .get("/static/{name}", assets::serve)
                .register("/api", api)
                .register(pages);
    }

    private static void securityHeaders(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.create("Content-Security-Policy"), CONTENT_SECURITY_POLICY);
        res.header(HeaderNames.create("X-Frame-Options"), "DENY");
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header(HeaderNames.create("Referrer-Policy"), "same-origin");
        res.header(HeaderNames.create("Cross-Origin-Opener-Policy"), "same-origin");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.next();
    }
}
