package cloud.dementia.server.auth;

import java.io.Closeable;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.ResourceRetriever;

import cloud.dementia.server.tools.Json;

/**
 * The issuer's signing keys (its JWK set), through Nimbus' remote source: cached for 5 minutes, fetched again at once
 * when a token names a key the cache does not hold (the issuer rotated its keys), but at most twice in 30 s, so tokens
 * with invented key ids cannot make the server hammer the issuer; while the issuer is down, the last keys stay in use
 * for up to 50 minutes.
 * <p>
 * Where the set is comes from {@code DEMENTIA_OAUTH_JWKS_URL}, or else from the issuer's metadata ({@code jwks_uri}
 * of RFC 8414's {@code /.well-known/oauth-authorization-server}, else of OpenID Connect's
 * {@code /.well-known/openid-configuration}), read when a token first needs the keys: a server starts even while its
 * issuer cannot be reached, and tries again with a token that comes 10 s or more after the failed try.
 */
final class IssuerKeys implements JWKSource<SecurityContext>, Closeable {

    private static final Logger LOG = Logger.getLogger(IssuerKeys.class.getName());
    private static final int TIMEOUT_MS = 2000;
    private static final int SIZE_LIMIT = 256 * 1024;
    /** After a failed discovery the next try waits this long: tokens arriving meanwhile must not each call the issuer. */
    private static final long RETRY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    private final String issuer;
    private final Optional<URI> configured;
    private final ResourceRetriever retriever = new DefaultResourceRetriever(TIMEOUT_MS, TIMEOUT_MS, SIZE_LIMIT);
    private volatile JWKSource<SecurityContext> keys;
    private KeySourceException lastFailure;
    private long lastFailureNanos;

    IssuerKeys(String issuer, Optional<URI> jwksUrl) {
        this.issuer = issuer;
        this.configured = jwksUrl;
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
        return keys().get(selector, context);
    }

    private JWKSource<SecurityContext> keys() throws KeySourceException {
        JWKSource<SecurityContext> k = keys;
        if (k != null) {
            return k;
        }
        synchronized (this) {
            if (keys == null) {
                if (lastFailure != null && System.nanoTime() - lastFailureNanos < RETRY_NANOS) {
                    throw lastFailure;
                }
                URL url;
                try {
                    url = url(configured.isPresent() ? configured.get() : discover());
                } catch (KeySourceException e) {
                    lastFailure = e;
                    lastFailureNanos = System.nanoTime();
                    LOG.warning("OAuth: " + e.getMessage());
                    throw e;
                }
                keys = JWKSourceBuilder.<SecurityContext>create(url, retriever)
                        // no refresh-ahead: it would start a thread of its own; a token past the cache's 5 minutes fetches
                        .refreshAheadCache(false)
                        .outageTolerant(true)
                        .build();
                LOG.info(() -> "OAuth: the signing keys of " + issuer + " are read from " + url);
            }
            return keys;
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
    public void close() throws IOException {
        JWKSource<SecurityContext> k = keys;
        if (k instanceof Closeable c) {
            c.close();
        }
    }
}
