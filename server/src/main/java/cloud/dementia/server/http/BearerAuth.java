package cloud.dementia.server.http;

import java.util.Optional;
import java.util.function.Predicate;
import java.util.logging.Logger;

import io.helidon.common.context.Context;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.store.ApiKeyStore;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.Credentials;

/**
 * Requires {@code Authorization: Bearer <API key>} on the protected paths and puts the key's {@link Caller} (its scope)
 * into the request context for the tools. A key from {@code DEMENTIA_API_KEY(S)} (or the generated one) is checked in
 * memory and reaches everything; a key an operator created ({@code dmk_...}) is looked up in the control schema on
 * every request, so a revoked or expired one is refused at once on every replica. A missing or wrong key gets 401 with
 * {@code WWW-Authenticate: Bearer}. Keys are never logged.
 */
public final class BearerAuth implements Filter {

    private static final Logger LOG = Logger.getLogger(BearerAuth.class.getName());
    /** Classifier of the {@link Caller} in the request context. */
    private static final Object CALLER = new Object() {
        @Override
        public String toString() {
            return "dementia-caller";
        }
    };

    private final Credentials credentials;
    private final ApiKeyStore keys;
    private final Predicate<String> protectedPath;

    public BearerAuth(Credentials credentials, ApiKeyStore keys, Predicate<String> protectedPath) {
        this.credentials = credentials;
        this.keys = keys;
        this.protectedPath = protectedPath;
    }

    /** @return the caller the filter found for this request ({@link Caller#TRUSTED} when there was none to find) */
    public static Caller caller(Context context) {
        return context.get(CALLER, Caller.class).orElse(Caller.TRUSTED);
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
        Optional<Caller> caller;
        try {
            caller = key.flatMap(this::callerOf);
        } catch (PoolException e) {
            res.status(Status.SERVICE_UNAVAILABLE_503).header(HeaderNames.RETRY_AFTER, "1").header(HeaderNames.CONTENT_TYPE, "application/json")
                    .send("{\"error\":\"the API key could not be checked: the database did not answer in time; retry\"}");
            return;
        }
        if (caller.isPresent()) {
            req.context().register(CALLER, caller.get());
            chain.proceed();
            return;
        }
        LOG.fine(() -> "refused " + req.prologue().method().text() + " " + path + ": " + (key.isPresent() ? "wrong" : "no") + " API key");
        res.status(Status.UNAUTHORIZED_401)
                .header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"dementia\"")
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send("{\"error\":\"" + (key.isPresent() ? "the API key is not valid (wrong, revoked or expired)"
                        : "an API key is required: send Authorization: Bearer <key>") + "\"}");
    }

    private Optional<Caller> callerOf(String presented) {
        Optional<String> environment = credentials.matchingApiKeyHash(presented);
        if (environment.isPresent()) {
            String hash = environment.get();
            return Optional.of(new Caller("env:" + hash.substring(hash.indexOf(':') + 1, hash.indexOf(':') + 13), "environment",
                    java.util.List.of(), false));
        }
        if (!presented.startsWith(ApiKeyStore.PREFIX)) {
            return Optional.empty();
        }
        return keys.authenticate(ApiKeyStore.hash(presented))
                .map(k -> new Caller("key:" + k.name(), k.name(), k.projects(), k.readOnly()));
    }
}
