package cloud.dementia.server.http;

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
import cloud.dementia.server.auth.AccessTokens;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.Credentials;
import cloud.dementia.server.auth.TokenScope;
import cloud.dementia.server.tools.Json;

/**
 * Requires {@code Authorization: Bearer <API key>} on the protected paths and puts the key's {@link Caller} (its scope)
 * into the request context for the tools. A key from {@code DEMENTIA_API_KEY(S)} (or the generated one) is checked in
 * memory and reaches everything; a key an operator created ({@code dmk_...}) is looked up in the control schema on
 * every request, so a revoked or expired one is refused at once on every replica. A missing or wrong key gets 401 with
 * {@code WWW-Authenticate: Bearer}. Keys are never logged.
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

    private final Credentials credentials;
    private final ApiKeyStore keys;
    private final Predicate<String> protectedPath;
    private final Optional<AccessTokens> tokens;
    private final Predicate<String> tokenPath;

    /**
     * @param protectedPath which paths need a key (or token)
     * @param tokens        the access-token check when OAuth is on ({@code DEMENTIA_OAUTH_ISSUER})
     * @param tokenPath     which protected paths also take an access token (the others take API keys only)
     */
    public BearerAuth(Credentials credentials, ApiKeyStore keys, Predicate<String> protectedPath, Optional<AccessTokens> tokens,
                      Predicate<String> tokenPath) {
        this.credentials = credentials;
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
            unavailable(res, "the API key could not be checked: the database did not answer in time; retry");
            return;
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
                    unavailable(res, "the access token could not be checked: " + unavailable.description() + "; retry");
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

    private static void unavailable(RoutingResponse res, String message) {
        res.status(Status.SERVICE_UNAVAILABLE_503).header(HeaderNames.RETRY_AFTER, "1").header(HeaderNames.CONTENT_TYPE, "application/json")
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
