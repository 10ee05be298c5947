package cloud.dementia.server.auth;

import java.io.Closeable;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.ResourceRetriever;

import cloud.dementia.server.tools.Json;

/**
 * The issuer's signing keys (its JWK set): cached for 5 minutes, fetched again at once when a token names a key the
 * cache does not hold (the issuer rotated its keys), but at most twice in 30 s, so tokens with invented key ids cannot
 * make the server hammer the issuer.
 * <p>
 * An issuer that cannot be reached (refused, hanging, an error status, not a key set, too large, too slow) never makes a
 * token that may be valid look invalid: without keys that answer for it, the lookup fails with
 * {@link KeySourceException} (503, retry), and the last keys fetched stay in use for up to 50 minutes. A failed fetch
 * is tried again by the first token that comes {@value #RETRY_AFTER_FAILURE_MS} ms or more after it, so the issuer is
 * asked at most once a second while it is down and its return is noticed within a second. One fetch runs at a time,
 * and it is given at most {@value #FETCH_DEADLINE_MS} ms in all.
 * <p>
 * Where the set is comes from {@code DEMENTIA_OAUTH_JWKS_URL}, or else from the issuer's metadata ({@code jwks_uri}
 * of RFC 8414's {@code /.well-known/oauth-authorization-server}, else of OpenID Connect's
 * {@code /.well-known/openid-configuration}), read when a token first needs the keys: a server starts even while its
 * issuer cannot be reached.
 */
final class IssuerKeys implements JWKSource<SecurityContext>, Closeable {

    private static final Logger LOG = Logger.getLogger(IssuerKeys.class.getName());
    private static final int TIMEOUT_MS = 2000;
    private static final int SIZE_LIMIT = 256 * 1024;
    static final long RETRY_AFTER_FAILURE_MS = 1000;
    static final long FETCH_DEADLINE_MS = 5000;
    private static final long TTL_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final long OUTAGE_TOLERANCE_NANOS = TimeUnit.MINUTES.toNanos(50);
    private static final long REFETCH_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int REFETCHES_PER_WINDOW = 2;

    /** A key set and when it was fetched. */
    private record Fetched(JWKSet set, long atNanos) {
    }

    private final String issuer;
    private final Optional<URI> configured;
    private final ResourceRetriever retriever = new DefaultResourceRetriever(TIMEOUT_MS, TIMEOUT_MS, SIZE_LIMIT);
    private volatile Fetched fetched;
    /** Found once; written by the fetch the lock holder waits for. */
    private volatile URL jwksUrl;
    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private KeySourceException lastFailure;
    private long lastFailureNanos;
    private final Deque<Long> fetchTimes = new ArrayDeque<>();

    IssuerKeys(String issuer, Optional<URI> jwksUrl) {
        this.issuer = issuer;
        this.configured = jwksUrl;
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
        Fetched f = fetched;
        long now = System.nanoTime();
        if (f != null && now - f.atNanos() < TTL_NANOS) {
            List<JWK> keys = selector.select(f.set());
            if (!keys.isEmpty()) {
                return keys;
            }
        }
        // a lock, not synchronized: a virtual thread waiting on the fetch must not pin its carrier
        lock.lock();
        try {
            f = fetched;
            now = System.nanoTime();
            boolean fresh = f != null && now - f.atNanos() < TTL_NANOS;
            if (fresh) {
                List<JWK> keys = selector.select(f.set());
                // a key the fresh set lacks: fetch again only within the refetch budget, else it is simply unknown
                if (!keys.isEmpty() || !mayRefetch(now)) {
                    return keys;
                }
            }
            if (lastFailure != null && now - lastFailureNanos < TimeUnit.MILLISECONDS.toNanos(RETRY_AFTER_FAILURE_MS)) {
                return stale(selector, f, now, lastFailure);
            }
            try {
                JWKSet set = fetch();
                fetched = new Fetched(set, System.nanoTime());
                fetchTimes.addLast(System.nanoTime());
                lastFailure = null;
                return selector.select(set);
            } catch (KeySourceException e) {
                lastFailure = e;
                lastFailureNanos = System.nanoTime();
                LOG.warning("OAuth: " + e.getMessage());
                return stale(selector, f, now, e);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return the matching keys of the last set fetched while it is within the outage tolerance and holds one; else
     *         the failure, since the token may be valid with keys that could not be fetched
     */
    private static List<JWK> stale(JWKSelector selector, Fetched f, long now, KeySourceException failure) throws KeySourceException {
        if (f != null && now - f.atNanos() < OUTAGE_TOLERANCE_NANOS) {
            List<JWK> keys = selector.select(f.set());
            if (!keys.isEmpty()) {
                return keys;
            }
        }
        throw failure;
    }

    private boolean mayRefetch(long now) {
        while (!fetchTimes.isEmpty() && now - fetchTimes.peekFirst() > REFETCH_WINDOW_NANOS) {
            fetchTimes.removeFirst();
        }
        return fetchTimes.size() < REFETCHES_PER_WINDOW;
    }

    /** Discovery (once) and the key set, within {@link #FETCH_DEADLINE_MS}: a trickling issuer cannot hold a request longer. */
    private JWKSet fetch() throws KeySourceException {
        FutureTask<JWKSet> task = new FutureTask<>(() -> {
            if (jwksUrl == null) {
                jwksUrl = url(configured.isPresent() ? configured.get() : discover());
                LOG.info(() -> "OAuth: the signing keys of " + issuer + " are read from " + jwksUrl);
            }
            try {
                return JWKSet.parse(retriever.retrieveResource(jwksUrl).getContent());
            } catch (IOException e) {
                throw new KeySourceException("the JWK set at " + jwksUrl + " could not be read: " + e.getMessage(), e);
            } catch (ParseException e) {
                throw new KeySourceException("the JWK set at " + jwksUrl + " is not a JWK set: " + e.getMessage(), e);
            }
        });
        Thread.ofVirtual().name("oauth-jwks-fetch").start(task);
        try {
            return task.get(FETCH_DEADLINE_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // interrupting a virtual thread blocked on a socket closes the socket
            task.cancel(true);
            throw new KeySourceException("the issuer did not answer with its JWK set within " + FETCH_DEADLINE_MS + " ms");
        } catch (InterruptedException e) {
            task.cancel(true);
            Thread.currentThread().interrupt();
            throw new KeySourceException("interrupted while fetching the issuer's JWK set");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof KeySourceException k) {
                throw k;
            }
            throw new KeySourceException("the issuer's JWK set could not be fetched: " + e.getCause(), e.getCause());
        }
    }

    /** @return the issuer's {@code jwks_uri}, from the first of its metadata documents that answers */
    private URI discover() throws KeySourceException {
        List<String> tried = new ArrayList<>();
        for (URI metadata : metadataUrls(issuer)) {
            JsonNode document;
            try {
                document = Json.parse(retriever.retrieveResource(metadata.toURL()).getContent());
            } catch (IOException | IllegalArgumentException e) {
                tried.add(metadata + " (" + e.getMessage() + ")");
                continue;
            }
            // RFC 8414 section 3.3: metadata naming another issuer must not be used
            if (!issuer.equals(document.path("issuer").asText())) {
                throw new KeySourceException("the metadata at " + metadata + " names the issuer `" + document.path("issuer").asText()
                        + "`, not `" + issuer + "`");
            }
            String jwks = document.path("jwks_uri").asText("");
            if (jwks.isEmpty()) {
                throw new KeySourceException("the metadata at " + metadata + " has no jwks_uri: set DEMENTIA_OAUTH_JWKS_URL");
            }
            return URI.create(jwks);
        }
        throw new KeySourceException("the issuer's metadata could not be read: " + String.join("; ", tried));
    }

    /**
     * The addresses of an issuer's metadata, in the order the MCP authorization spec tries them: RFC 8414 puts the
     * well-known path between host and the issuer's path; OpenID Connect Discovery appends it.
     */
    static List<URI> metadataUrls(String issuer) {
        URI uri = URI.create(issuer);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        String origin = uri.getScheme() + "://" + uri.getRawAuthority();
        List<URI> urls = new ArrayList<>();
        urls.add(URI.create(origin + "/.well-known/oauth-authorization-server" + path));
        if (!path.isEmpty()) {
            urls.add(URI.create(origin + "/.well-known/openid-configuration" + path));
        }
        urls.add(URI.create(origin + path + "/.well-known/openid-configuration"));
        return urls;
    }

    private static URL url(URI uri) throws KeySourceException {
        try {
            return uri.toURL();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new KeySourceException("the JWK set URL " + uri + " is not a URL: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        // nothing is held between fetches: no thread, no connection
    }
}
