package cloud.dementia.server.observe;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.helidon.http.HttpException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Times every HTTP request: {@code http_server_requests_seconds{method,uri,status}}, a histogram with the service's
 * latency buckets (Micrometer's name and tags, as the common dashboards read them). Every label is bounded: {@code uri}
 * is the route a path falls under ({@code /mcp}, {@code /admin/api}, ...) or {@code other}, never the raw path, which
 * a client could make up without end; an unusual method is {@code OTHER}.
 */
public final class HttpMeters implements Filter {

    /** The served routes, the longer of two nested ones first: a path is labelled with the first it falls under. */
    private static final List<String> ROUTES = List.of("/mcp", "/execute", "/tools", "/health", "/observe/health", "/metrics",
            "/observe/metrics", "/admin/api", "/admin");
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    private final MeterRegistry registry;
    /** The timers by labels, looked up once: registering on every request costs a registry lookup with sorted tags. */
    private final Map<Labels, Timer> timers = new ConcurrentHashMap<>();

    private record Labels(String method, String uri, int status) {
    }

    public HttpMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        // read before routing: a service registered under a path sees the request's path relative to it
        String method = req.prologue().method().text();
        String uri = route(req.path().path());
        try {
            chain.proceed();
        } catch (HttpException e) {
            record(method, uri, e.status().code(), start);
            throw e;
        } catch (RuntimeException | Error e) {
            // answered with 500 by the server's error handler, after this filter
            record(method, uri, 500, start);
            throw e;
        }
        record(method, uri, res.status().code(), start);
    }

    private void record(String method, String uri, int status, long start) {
        Labels labels = new Labels(METHODS.contains(method) ? method : "OTHER", uri, status);
        timers.computeIfAbsent(labels, l -> Observability.latencyTimer("http.server.requests")
                        .description("HTTP requests by route and status")
                        .tag("method", l.method()).tag("uri", l.uri()).tag("status", Integer.toString(l.status()))
                        .register(registry))
                .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    /** @return the route a path falls under, or {@code other} */
    static String route(String path) {
        for (String route : ROUTES) {
            if (path.equals(route) || path.startsWith(route + "/")) {
                return route;
            }
        }
        return "other";
    }
}
