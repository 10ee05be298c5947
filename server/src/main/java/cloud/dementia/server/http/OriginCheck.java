package cloud.dementia.server.http;

import java.net.URI;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import cloud.dementia.server.tools.Json;

/**
 * DNS-rebinding protection on the checked paths ({@code /mcp}): a request without {@code Origin} passes (not a
 * browser); so does an {@code Origin} whose host is {@code localhost}, {@code 127.0.0.1} or {@code [::1]} (any scheme,
 * any port), and one listed in {@code DEMENTIA_ALLOWED_ORIGINS}. Any other gets 403.
 */
public final class OriginCheck implements Filter {

    private static final Logger LOG = Logger.getLogger(OriginCheck.class.getName());
    private static final Set<String> LOCAL_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");

    private final Set<String> allowed;
    private final Predicate<String> checkedPath;

    /**
     * @param allowedOrigins extra origins accepted as they are (compared without case and without a trailing slash)
     * @param checkedPath    which request paths are checked
     */
    public OriginCheck(Collection<String> allowedOrigins, Predicate<String> checkedPath) {
        this.allowed = allowedOrigins.stream().map(OriginCheck::normalize).collect(Collectors.toUnmodifiableSet());
        this.checkedPath = checkedPath;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isEmpty() || !checkedPath.test(req.path().path()) || accepts(origin.get())) {
            chain.proceed();
            return;
        }
        LOG.fine(() -> "refused " + req.prologue().method().text() + " " + req.path().path() + ": Origin " + origin.get());
        res.status(Status.FORBIDDEN_403)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.compact(java.util.Map.of("error", "origin `" + origin.get() + "` is not allowed; list it in DEMENTIA_ALLOWED_ORIGINS")));
    }

    /** Whether an {@code Origin} header value is accepted. */
    public boolean accepts(String origin) {
        String normalized = normalize(origin);
        if (allowed.contains(normalized)) {
            return true;
        }
        try {
            URI uri = new URI(normalized);
            return uri.getScheme() != null && uri.getHost() != null && LOCAL_HOSTS.contains(uri.getHost());
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static String normalize(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
