package cloud.dementia.server.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import cloud.dementia.server.tools.Json;

/**
 * An OAuth authorization server as far as a resource server sees one, on 127.0.0.1: its metadata (RFC 8414's
 * {@code /.well-known/oauth-authorization-server}, or only OpenID Connect's {@code /.well-known/openid-configuration}),
 * its JWK set, which the test can change (key rotation), and access tokens signed with its keys. It counts how often
 * the JWK set was fetched.
 */
final class TestIssuer implements AutoCloseable {

    /** The audience tokens carry unless a test says otherwise: the servers' {@code DEMENTIA_PUBLIC_URL}. */
    static final String PUBLIC_URL = "https://memory.example.test";

    private final HttpServer http;
    private final String issuer;
    private final AtomicInteger jwksFetches = new AtomicInteger();
    private volatile JWKSet published;
    private volatile String jwksFailure;

    /**
     * @param path       the issuer's path ({@code ""} or {@code /realms/x})
     * @param openIdOnly whether only the OpenID Connect discovery document is served (the fallback)
     * @param keys       the keys published at first
     */
    TestIssuer(String path, boolean openIdOnly, JWK... keys) {
        try {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        issuer = "http://127.0.0.1:" + http.getAddress().getPort() + path;
        String metadata = Json.compact(Map.of("issuer", issuer, "jwks_uri", issuer + "/jwks",
                "authorization_endpoint", issuer + "/authorize", "token_endpoint", issuer + "/token"));
        publish(keys);
        http.createContext(openIdOnly ? path + "/.well-known/openid-configuration" : "/.well-known/oauth-authorization-server" + path,
                exchange -> answer(exchange, metadata));
        http.createContext(path + "/jwks", exchange -> {
            jwksFetches.incrementAndGet();
            String failing = jwksFailure;
            if (failing == null) {
                answer(exchange, published.toString(true));
            } else if (failing.equals("500")) {
                exchange.sendResponseHeaders(500, -1);
                exchange.close();
            } else {
                answer(exchange, "<html>not a key set</html>");
            }
        });
        http.start();
    }

    private static void answer(HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    String issuer() {
        return issuer;
    }

    /** Replaces the published JWK set (its public halves). */
    void publish(JWK... keys) {
        published = new JWKSet(List.of(keys));
    }

    /** @param failure how the JWK set fails from now on: {@code "500"}, {@code "garbage"}, or {@code null} to serve it again */
    void failJwks(String failure) {
        jwksFailure = failure;
    }

    int jwksFetches() {
        return jwksFetches.get();
    }

    static RSAKey rsaKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static ECKey ecKey(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims of a good token of user {@code sub}: this issuer, the public URL as audience, five minutes to live. */
    JWTClaimsSet.Builder claims(String sub, String scope) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(issuer).subject(sub).audience(PUBLIC_URL).claim("scope", scope)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)));
    }

    /** @return the claims signed with the key (RS256 for RSA, ES256 for EC), typed {@code at+jwt} */
    static String sign(JWK key, JWTClaimsSet claims) {
        try {
            JWSSigner signer = key instanceof ECKey ec ? new ECDSASigner(ec) : new RSASSASigner((RSAKey) key);
            JWSAlgorithm alg = key instanceof ECKey ? JWSAlgorithm.ES256 : JWSAlgorithm.RS256;
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).type(new JOSEObjectType("at+jwt")).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
