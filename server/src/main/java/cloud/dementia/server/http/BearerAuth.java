package cloud.dementia.server.http;

import java.util.Optional;
import java.util.logging.Logger;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import cloud.dementia.server.auth.Credentials;

/**
 * Requires {@code Authorization: Bearer <API key>} on the protected paths. A missing or wrong key gets 401 with
 * {@code WWW-Authenticate: Bearer}. Keys are never logged.
 */
public final class BearerAuth implements Filter {

    private static final Logger LOG = Logger.getLogger(BearerAuth.class.getName());

    private final Credentials credentials;
    private final java.util.function.Predicate<String> protectedPath;

    public BearerAuth(Credentials credentials, java.util.function.Predicate<String> protectedPath) {
        this.credentials = credentials;
        this.protectedPath = protectedPath;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (!protectedPath.test(path)) {
            chain.proceed();
            return;
        }
        Optional<String> key = req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(h -> h.substring(7).trim());
        if (key.isPresent() && credentials.acceptsApiKey(key.get())) {
            chain.proceed();
            return;
        }
        LOG.fine(() -> "refused " + req.prologue().method().text() + " " + path + ": " + (key.isPresent() ? "wrong" : "no") + " API key");
        res.status(Status.UNAUTHORIZED_401)
                .header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"dementia\"")
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send("{\"error\":\"" + (key.isPresent() ? "the API key is not valid" : "an API key is required: send Authorization: Bearer <key>") + "\"}");
    }
}
