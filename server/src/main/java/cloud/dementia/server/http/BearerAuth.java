package cloud.dementia.server.http;

import java.util.List;
import java.util.Map;
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
import cloud.dementia.db.store.Failure;
import cloud.dementia.server.auth.AccessTokens;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.Credentials;
import cloud.dementia.server.auth.TokenScope;
import cloud.dementia.server.tools.Json;

/**
 * Requires {@code Authorization: Bearer <API key>} on the protected paths and puts the key's {@link Caller} (its scope)
 * into the request context for the tools. Every key is looked up by its hash in the control schema on every request
 * ({@link ApiKeyStore}), so a revoked, expired or reset key is refused at once on every replica; those of
 * {@code DEMENTIA_API_KEY(S)} and the generated one reach everything. While the database does not answer, a request
 * is 503 with {@code Retry-After} at once (it waited its one bounded wait here), except on the routes served without
 * the database (metrics), which must stay readable in an outage: there the environment's keys are checked in memory.
 * A missing or wrong key gets 401 with {@code WWW-Authenticate: Bearer}. Keys are never logged.
 * <p>
 * With OAuth on, the token paths also take an OAuth access token: a bearer value that is not one of the keys and looks
 * like a JWT is checked by {@link AccessTokens}; a refused one gets 401 {@code invalid_token}, a valid one without a
 * memory scope 403 {@code insufficient_scope}, and every 401 there names the resource metadata
 * ({@code resource_metadata="<public url>/.well-known/oauth-protected-resource"}).
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

    private final Credentials environment;
    private final ApiKeyStore keys;
    private final Predicate<String> protectedPath;
    private final Optional<AccessTokens> tokens;
    private final Predicate<String> tokenPath;
    private final Predicate<String> withoutDatabase;

    /**
     * @param environment   the environment's keys, accepted while the database does not answer
     * @param keys          every API key
     * @param protectedPath which paths need a key (or token)
     * @param tokens        the access-token check when OAuth is on ({@code DEMENTIA_OAUTH_ISSUER})
     * @param tokenPath       which protected paths also take an access token (the others take API keys only)
     * @param withoutDatabase which protected paths are served without the database, so the environment's keys open
     *                        them while it does not answer
     */
    public BearerAuth(Credentials environment, ApiKeyStore keys, Predicate<String> protectedPath, Optional<AccessTokens> tokens,
                      Predicate<String> tokenPath, Predicate<String> withoutDatabase) {
        this.withoutDatabase = withoutDatabase;
        this.environment = environment;
        this.keys = keys;
        this.protectedPath = protectedPath;
        this.tokens = tokens;
        this.tokenPath = tokenPath;
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
        Optional<AccessTokens> oauth = tokens.filter(t -> tokenPath.test(path));
        Optional<String> presented = req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(h -> h.substring(7).trim());
        if (presented.isEmpty()) {
            LOG.fine(() -> "refused " + req.prologue().method().text() + " " + path + ": no API key");
            unauthorized(res, oauth, Optional.empty(), oauth.isPresent()
                    ? "an API key or OAuth access token is required: send Authorization: Bearer <key or token>"
                    : "an API key is required: send Authorization: Bearer <key>");
            return;
        }
        Optional<Caller> caller;
        try {
            caller = callerOf(presented.get());
        } catch (PoolException e) {
            Failure failure = Failure.of(e);
            if (!failure.unavailable()) {
                throw e;
            }
            caller = withoutDatabase.test(path) ? environment.matchingEnvironmentKey(presented.get()).map(BearerAuth::builtIn) : Optional.empty();
            if (caller.isEmpty()) {
                unavailable(res, failure.retryAfterSeconds(), "the API key could not be checked: " + failure.message() + "; retry");
                return;
            }
        }
        if (caller.isEmpty() && oauth.isPresent() && looksLikeJwt(presented.get())) {
            switch (oauth.get().check(presented.get())) {
                case AccessTokens.Accepted accepted -> caller = Optional.of(accepted.caller());
                case AccessTokens.Invalid invalid -> {
                    LOG.fine(() -> "refused " + req.prologue().method().text() + " " + path + ": " + invalid.description());
                    unauthorized(res, oauth, Optional.of(invalid.description()), "the access token is not valid: " + invalid.description());
                    return;
                }
                case AccessTokens.NoScope noScope -> {
                    res.status(Status.FORBIDDEN_403)
                            .header(HeaderNames.WWW_AUTHENTICATE, "Bearer error=\"insufficient_scope\", scope=\""
                                    + String.join(" ", TokenScope.SUPPORTED) + "\", resource_metadata=\"" + oauth.get().resource().metadataUrl() + "\"")
                            .header(HeaderNames.CONTENT_TYPE, "application/json")
                            .send(Json.compact(Map.of("error", noScope.description())));
                    return;
                }
                case AccessTokens.Unavailable unavailable -> {
                    unavailable(res, 1, "the access token could not be checked: " + unavailable.description() + "; retry");
                    return;
                }
            }
        }
        if (caller.isPresent()) {
            req.context().register(CALLER, caller.get());
            chain.proceed();
            return;
        }
        LOG.fine(() -> "refused " + req.prologue().method().text() + " " + path + ": wrong API key");
        unauthorized(res, oauth, Optional.of("the API key is not valid"), "the API key is not valid (wrong, revoked or expired)");
    }

    /**
     * 401. With OAuth on the challenge names the resource metadata (MCP authorization: the client finds the authorization
     * server there) and, for a refused credential, {@code error="invalid_token"} and why (RFC 6750).
     */
    private static void unauthorized(RoutingResponse res, Optional<AccessTokens> oauth, Optional<String> refusal, String message) {
        String challenge = oauth.map(t -> "Bearer resource_metadata=\"" + t.resource().metadataUrl() + "\""
                        + refusal.map(r -> ", error=\"invalid_token\", error_description=\"" + quotable(r) + "\"").orElse(""))
                .orElse("Bearer realm=\"dementia\"");
        res.status(Status.UNAUTHORIZED_401)
                .header(HeaderNames.WWW_AUTHENTICATE, challenge)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.compact(Map.of("error", message)));
    }

    private static void unavailable(RoutingResponse res, int retryAfterSeconds, String message) {
        res.status(Status.SERVICE_UNAVAILABLE_503).header(HeaderNames.RETRY_AFTER, String.valueOf(Math.max(1, retryAfterSeconds)))
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.compact(Map.of("error", message)));
    }

    /** @return the text as an HTTP quoted string may hold it: printable ASCII without {@code "} or a backslash */
    private static String quotable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
        }
        return b.toString();
    }

    /** A compact JWT has three parts (five when encrypted); API keys have no dots, so a wrong key is not taken for a bad token. */
    private static boolean looksLikeJwt(String presented) {
        long dots = presented.chars().filter(c -> c == '.').count();
        return dots == 2 || dots == 4;
    }

    /** The one lookup of a request: the key's row, found by the key's hash. */
    private Optional<Caller> callerOf(String presented) {
        String hash = ApiKeyStore.hash(presented);
        return keys.authenticate(hash).map(k -> k.origin() == ApiKeyStore.Origin.OPERATOR
                ? new Caller("key:" + k.name(), k.name(), k.projects(), k.readOnly())
                : builtIn(hash));
    }

    /**
     * A key of the environment or the generated one: everything, read-write. Its id is drawn from the key's hash, not
     * the row's name, so the sessions it owns stay its own across restarts and a reset key does not inherit them.
     */
    private static Caller builtIn(String hash) {
        String hex = hash.substring(hash.indexOf(':') + 1);
        return new Caller("env:" + hex.substring(0, 12), "environment", List.of(), false);
    }
}
