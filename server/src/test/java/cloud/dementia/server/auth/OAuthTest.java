package cloud.dementia.server.auth;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #11 "Sign-in for hosted connectors": with {@code DEMENTIA_OAUTH_ISSUER} the server is an OAuth 2.1 resource server
 * (MCP authorization): it publishes RFC 9728 metadata, challenges with {@code resource_metadata}, accepts the issuer's
 * JWT access tokens (checked against its JWK set) beside API keys, and maps their scopes onto a key's scope.
 */
class OAuthTest {

    static final String METADATA = TestIssuer.PUBLIC_URL + "/.well-known/oauth-protected-resource";

    static RSAKey rsa = TestIssuer.rsaKey("rsa-1");
    static ECKey ec = TestIssuer.ecKey("ec-1");
    static TestIssuer issuer;
    static TestServer server;

    @BeforeAll
    static void start() {
        issuer = new TestIssuer("", false, rsa, ec);
        server = TestServer.start(oauthEnv(issuer), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
        issuer.close();
    }

    static Map<String, String> oauthEnv(TestIssuer issuer) {
        return Map.of("DEMENTIA_OAUTH_ISSUER", issuer.issuer(), "DEMENTIA_PUBLIC_URL", TestIssuer.PUBLIC_URL, "DEMENTIA_EMBEDDINGS", "off");
    }

    static String token(String sub, String scope) {
        return TestIssuer.sign(rsa, issuer.claims(sub, scope).build());
    }

    static HttpResponse<String> execute(String bearer, String tool, String arguments) throws Exception {
        return server.send(server.bare("/execute").header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}")));
    }

    static HttpResponse<String> mcp(String bearer, String session, String body) throws Exception {
        HttpRequest.Builder b = server.bare("/mcp").header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return server.send(b);
    }

    static String initialize(String bearer) throws Exception {
        HttpResponse<String> r = mcp(bearer, null, TestServer.INITIALIZE);
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
    }

    static String toolCall(String tool, String arguments) {
        return "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":" + arguments + "}}";
    }

    static String challenge(HttpResponse<String> r) {
        return r.headers().firstValue("WWW-Authenticate").orElse("");
    }

    @Test
    void theMetadataNamesTheResourceTheIssuerAndTheScopes() throws Exception {
        HttpResponse<String> r = server.send(server.bare("/.well-known/oauth-protected-resource").GET());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""), "browser clients read it cross-origin");
        JsonNode m = Json.parse(r.body());
        assertEquals(TestIssuer.PUBLIC_URL, m.path("resource").asText());
        assertEquals(List.of(issuer.issuer()), strings(m.path("authorization_servers")));
        assertEquals(List.of("header"), strings(m.path("bearer_methods_supported")));
        assertEquals(List.of("memory:read", "memory:write"), strings(m.path("scopes_supported")));
        // the path-suffixed form of RFC 9728 for the resource <public url>/mcp
        HttpResponse<String> mcp = server.send(server.bare("/.well-known/oauth-protected-resource/mcp").GET());
        assertEquals(200, mcp.statusCode(), mcp.body());
        assertEquals(TestIssuer.PUBLIC_URL + "/mcp", Json.parse(mcp.body()).path("resource").asText());
        assertEquals(404, server.send(server.bare("/.well-known/oauth-protected-resource/other").GET()).statusCode());
        java.io.ByteArrayOutputStream welcome = new java.io.ByteArrayOutputStream();
        server.server().printWelcome(new java.io.PrintStream(welcome, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(welcome.toString(java.nio.charset.StandardCharsets.UTF_8), containsString("  OAuth:         access tokens of " + issuer.issuer()
                + " for " + TestIssuer.PUBLIC_URL + " (metadata: " + METADATA + ")"));
    }

    static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }

    @Test
    void withoutACredentialThe401NamesTheResourceMetadata() throws Exception {
        for (String path : new String[] {"/mcp", "/execute", "/tools"}) {
            HttpResponse<String> r = server.send(server.bare(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)));
            assertEquals(401, r.statusCode(), path);
            assertEquals("Bearer resource_metadata=\"" + METADATA + "\"", challenge(r), path);
            assertThat(r.body(), containsString("an API key or OAuth access token is required"));
        }
    }

    @Test
    void metricsStayForApiKeys() throws Exception {
        HttpResponse<String> withToken = server.send(server.bare("/metrics").header("Authorization", "Bearer " + token("alice", "memory:write")).GET());
        assertEquals(401, withToken.statusCode());
        assertEquals("Bearer realm=\"dementia\"", challenge(withToken), "no OAuth challenge where tokens are not taken");
        assertEquals(200, server.get("/metrics").statusCode());
    }

    @Test
    void aValidTokenCallsToolsOverMcpAndExecute() throws Exception {
        String token = token("alice", "openid memory:write");
        String session = initialize(token);
        HttpResponse<String> lock = mcp(token, session, toolCall("lock_context", "{\"topic\":\"signed-in\",\"content\":\"by token\",\"project\":\"oauth-a\"}"));
        assertEquals(200, lock.statusCode(), lock.body());
        assertFalse(Json.parse(lock.body()).path("result").path("isError").asBoolean(), lock.body());
        HttpResponse<String> recall = execute(token, "recall_context", "{\"topic\":\"signed-in\",\"project\":\"oauth-a\"}");
        assertEquals(200, recall.statusCode(), recall.body());
        assertThat(recall.body(), containsString("by token"));
        assertEquals(200, server.send(server.bare("/tools").header("Authorization", "Bearer " + token).GET()).statusCode());
        // the official MCP Java SDK client, signed in with the token
        try (TestMcpClient sdk = new TestMcpClient(server, token)) {
            sdk.initialize();
            assertThat(TestMcpClient.text(sdk.call("recall_context", Map.of("topic", "signed-in", "project", "oauth-a"))), containsString("by token"));
        }
        // an ES256 token of the same issuer works too
        String es = TestIssuer.sign(ec, issuer.claims("alice", "memory:read").build());
        assertEquals(200, execute(es, "recall_context", "{\"topic\":\"signed-in\",\"project\":\"oauth-a\"}").statusCode());
    }

    /** RFC 8707: a client may ask for the MCP endpoint itself as the resource, and a URL parser adds a slash to the origin. */
    @ParameterizedTest
    @ValueSource(strings = {TestIssuer.PUBLIC_URL, TestIssuer.PUBLIC_URL + "/", TestIssuer.PUBLIC_URL + "/mcp"})
    void eachFormOfTheResourceIsAnAcceptedAudience(String audience) throws Exception {
        String token = TestIssuer.sign(rsa, issuer.claims("alice", "memory:read").audience(List.of("other-api", audience)).build());
        HttpResponse<String> r = execute(token, "list_projects", "{}");
        assertEquals(200, r.statusCode(), r.body());
    }

    static Stream<Arguments> refusedTokens() {
        Supplier<JWTClaimsSet.Builder> good = () -> issuer.claims("mallory", "memory:write");
        Instant past = Instant.now().minusSeconds(600);
        return Stream.of(
                Arguments.of("wrong issuer", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().issuer("https://evil.example").build()),
                        "the token was issued by https://evil.example, not by "),
                Arguments.of("wrong audience", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().audience("https://other.example").build()),
                        "the token is for https://other.example, not for this server"),
                Arguments.of("no audience", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().audience((String) null).build()),
                        "the token is for no audience"),
                Arguments.of("expired", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().issueTime(Date.from(past))
                        .notBeforeTime(Date.from(past)).expirationTime(Date.from(past.plusSeconds(300))).build()), "the token has expired"),
                Arguments.of("not yet valid", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get()
                        .notBeforeTime(Date.from(Instant.now().plusSeconds(300))).build()), "JWT before use time"),
                Arguments.of("no subject", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().subject(null).build()), "missing required claims: [sub]"),
                Arguments.of("empty subject", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().subject("").build()),
                        "the token's sub is empty"),
                Arguments.of("scope as a list", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().claim("scope", List.of("memory:write")).build()),
                        "the token's scope must be one space-separated string (RFC 9068)"),
                Arguments.of("NUL in subject", (Supplier<String>) () -> TestIssuer.sign(rsa, good.get().subject("carol\u0000x").build()),
                        "the token's sub holds a control character"),
                Arguments.of("bad signature", (Supplier<String>) () -> TestIssuer.sign(TestIssuer.rsaKey("rsa-1"), good.get().build()),
                        "the signature does not verify with the issuer's key (kid rsa-1)"),
                Arguments.of("alg none", (Supplier<String>) () -> new PlainJWT(good.get().build()).serialize(), "unsigned token (alg none)"),
                Arguments.of("HS256", (Supplier<String>) () -> hs256(good.get().build()), "a token signed with HS256 is not accepted"),
                Arguments.of("unknown kid", (Supplier<String>) () -> TestIssuer.sign(TestIssuer.rsaKey("rsa-unknown"), good.get().build()),
                        "no signing key of the issuer matches the token (kid rsa-unknown)"),
                Arguments.of("not a JWT", (Supplier<String>) () -> "abc.def.ghi", "neither an API key nor a JWT"));
    }

    static String hs256(JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims);
            // the attack this refuses: the RSA public key (public!) used as an HMAC secret
            jwt.sign(new MACSigner(rsa.toPublicJWK().toRSAPublicKey().getEncoded()));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedTokens")
    void aRefusedTokenIs401InvalidTokenSayingWhy(String name, Supplier<String> token, String why) throws Exception {
        HttpResponse<String> r = execute(token.get(), "list_projects", "{}");
        assertEquals(401, r.statusCode(), r.body());
        assertThat(challenge(r), containsString("Bearer resource_metadata=\"" + METADATA + "\", error=\"invalid_token\", error_description=\""));
        assertThat(challenge(r), containsString(why));
        assertThat(r.body(), containsString(why));
    }

    @Test
    void aTokenWithoutAMemoryScopeIs403InsufficientScope() throws Exception {
        HttpResponse<String> r = execute(token("alice", "openid profile"), "list_projects", "{}");
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"memory:read memory:write\", resource_metadata=\"" + METADATA + "\"", challenge(r));
        assertThat(r.body(), containsString("the token grants neither memory:read nor memory:write (it grants openid profile)"));
    }

    @Test
    void aReadOnlyTokenReadsAndCannotLock() throws Exception {
        assertEquals(200, server.post("/execute", "{\"tool\":\"lock_context\",\"arguments\":{\"topic\":\"rule\",\"content\":\"read me\",\"project\":\"oauth-ro\"}}")
                .statusCode());
        String reader = token("reader", "memory:read");
        HttpResponse<String> recall = execute(reader, "recall_context", "{\"topic\":\"rule\",\"project\":\"oauth-ro\"}");
        assertEquals(200, recall.statusCode(), recall.body());
        assertThat(recall.body(), containsString("read me"));
        HttpResponse<String> write = execute(reader, "lock_context", "{\"topic\":\"rule\",\"content\":\"changed\",\"project\":\"oauth-ro\"}");
        assertEquals(403, write.statusCode(), write.body());
        assertThat(write.body(), containsString("the OAuth token of `reader` is read-only and lock_context changes data"));
        String session = initialize(reader);
        HttpResponse<String> overMcp = mcp(reader, session, toolCall("lock_context", "{\"topic\":\"rule\",\"content\":\"changed\",\"project\":\"oauth-ro\"}"));
        assertEquals(200, overMcp.statusCode(), overMcp.body());
        assertTrue(Json.parse(overMcp.body()).path("result").path("isError").asBoolean(), overMcp.body());
        assertThat(execute(reader, "recall_context", "{\"topic\":\"rule\",\"project\":\"oauth-ro\"}").body(), not(containsString("changed")));
    }

    @Test
    void aProjectScopeConfinesTheTokenToItsProjects() throws Exception {
        String token = token("team", "memory:write project:team-* project:shared");
        assertEquals(200, execute(token, "lock_context", "{\"topic\":\"t\",\"content\":\"in scope\",\"project\":\"team-blue\"}").statusCode());
        assertEquals(200, execute(token, "lock_context", "{\"topic\":\"t\",\"content\":\"in scope\",\"project\":\"shared\"}").statusCode());
        HttpResponse<String> outside = execute(token, "lock_context", "{\"topic\":\"t\",\"content\":\"no\",\"project\":\"oauth-other\"}");
        assertEquals(403, outside.statusCode(), outside.body());
        assertThat(outside.body(), containsString("the OAuth token of `team` does not reach project `oauth-other` (it reaches team-*, shared)"));
        execute(TestServer.KEY, "create_project", "{\"name\":\"oauth-elsewhere\"}");
        List<String> seen = new ArrayList<>();
        Json.parse(execute(token, "list_projects", "{}").body()).path("result").path("projects").forEach(p -> seen.add(p.path("name").asText()));
        assertEquals(List.of("shared", "team-blue"), seen.stream().sorted().toList());
        // an empty project scope confines to nothing rather than widening to every project
        HttpResponse<String> empty = execute(token("odd", "memory:write project:"), "lock_context", "{\"topic\":\"t\",\"content\":\"x\",\"project\":\"team-blue\"}");
        assertEquals(403, empty.statusCode(), empty.body());
    }

    @Test
    void anMcpSessionBelongsToTheTokensUser() throws Exception {
        String alice = token("alice", "memory:write");
        String session = initialize(alice);
        assertEquals(200, mcp(alice, session, toolCall("switch_project", "{\"name\":\"alice-project\"}")).statusCode());
        // another token of the same user (another scope) is the same owner
        HttpResponse<String> again = execute(token("alice", "memory:read"), "get_active_project", "{}");
        assertEquals(200, again.statusCode(), again.body());
        HttpResponse<String> sameSession = mcp(token("alice", "memory:read"), session, toolCall("get_active_project", "{}"));
        assertThat(sameSession.body(), containsString("alice-project"));
        HttpResponse<String> bob = mcp(token("bob", "memory:write"), session, toolCall("get_active_project", "{}"));
        assertEquals(403, bob.statusCode(), bob.body());
        HttpResponse<String> key = mcp(TestServer.KEY, session, toolCall("get_active_project", "{}"));
        assertEquals(403, key.statusCode(), "an API key cannot act as a signed-in user's session either");
    }

    /** `carol/x` with session `y` and `carol` with session `x/y` are two users' two sessions, whatever the names hold. */
    @Test
    void executeSessionsOfTwoUsersNeverMeetWhateverTheirNamesHold() throws Exception {
        String carolX = token("carol/x", "memory:write");
        String carol = token("carol", "memory:write");
        HttpResponse<String> switched = executeIn(carolX, "y", "switch_project", "{\"name\":\"carol-x-project\"}");
        assertEquals(200, switched.statusCode(), switched.body());
        HttpResponse<String> other = executeIn(carol, "x/y", "get_active_project", "{}");
        assertEquals(200, other.statusCode(), other.body());
        assertThat(other.body(), not(containsString("carol-x-project")));
        HttpResponse<String> own = executeIn(carolX, "y", "get_active_project", "{}");
        assertThat(own.body(), containsString("carol-x-project"));
    }

    static HttpResponse<String> executeIn(String bearer, String session, String tool, String arguments) throws Exception {
        return server.send(server.bare("/execute").header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .header("Mcp-Session-Id", session)
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}")));
    }

    @Test
    void apiKeysKeepWorkingBesideTokens() throws Exception {
        assertEquals(200, execute(TestServer.KEY, "list_projects", "{}").statusCode());
        // a key an operator created, read-only
        String basic = "Basic " + Base64.getEncoder().encodeToString("admin:a-good-password".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> created = server.send(server.bare("/admin/api/keys").header("Authorization", basic).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"beside-oauth\",\"readOnly\":true}")));
        assertEquals(201, created.statusCode(), created.body());
        String key = Json.parse(created.body()).path("key").asText();
        assertEquals(200, execute(key, "list_projects", "{}").statusCode());
        assertThat(execute(key, "lock_context", "{\"topic\":\"t\",\"content\":\"x\"}").body(), containsString("the API key `beside-oauth` is read-only"));
        HttpResponse<String> wrong = execute("dmk_wrongwrongwrongwrongwrongwrongwrongwrongwro", "list_projects", "{}");
        assertEquals(401, wrong.statusCode());
        assertEquals("Bearer resource_metadata=\"" + METADATA + "\", error=\"invalid_token\", error_description=\"the API key is not valid\"",
                challenge(wrong));
    }

    /** The issuer rotates its keys: a token with the new kid makes the server fetch the set again; the retired key is refused. */
    @Test
    void aRotatedKeyIsPickedUpAndARetiredOneRefused() throws Exception {
        RSAKey first = TestIssuer.rsaKey("2026-01");
        // an issuer with a path that serves only OpenID Connect discovery: the fallback the server tries last
        try (TestIssuer rotating = new TestIssuer("/realms/dementia", true, first);
             TestServer own = TestServer.start(oauthEnv(rotating), new cloud.dementia.server.TestTools()::catalog)) {
            String before = TestIssuer.sign(first, rotating.claims("alice", "memory:write").build());
            for (int i = 0; i < 3; i++) {
                assertEquals(200, own.send(own.bare("/tools").header("Authorization", "Bearer " + before).GET()).statusCode());
            }
            assertEquals(1, rotating.jwksFetches(), "the key set is cached");
            RSAKey second = TestIssuer.rsaKey("2026-02");
            rotating.publish(second);
            String after = TestIssuer.sign(second, rotating.claims("alice", "memory:write").build());
            assertEquals(200, own.send(own.bare("/tools").header("Authorization", "Bearer " + after).GET()).statusCode());
            assertEquals(2, rotating.jwksFetches(), "an unknown kid fetched the set again");
            HttpResponse<String> retired = own.send(own.bare("/tools").header("Authorization", "Bearer " + before).GET());
            assertEquals(401, retired.statusCode());
            assertThat(challenge(retired), containsString("no signing key of the issuer matches the token (kid 2026-01)"));
            assertEquals(2, rotating.jwksFetches(), "refetches are rate-limited: invented kids cannot make the server hammer the issuer");
        }
    }

    @Test
    void anIssuerThatCannotBeReachedIs503NotARefusal() throws Exception {
        TestIssuer gone = new TestIssuer("", false, rsa);
        gone.close();
        try (TestServer own = TestServer.start(oauthEnv(gone), new cloud.dementia.server.TestTools()::catalog)) {
            HttpResponse<String> r = own.send(own.bare("/tools").header("Authorization", "Bearer " + TestIssuer.sign(rsa, gone.claims("a", "memory:read").build())).GET());
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
            assertThat(r.body(), containsString("the issuer's signing keys could not be fetched: the issuer's metadata could not be read"));
            assertEquals(200, own.get("/tools").statusCode(), "API keys do not depend on the issuer");
        }
    }

    /**
     * While the issuer's key set cannot be had, a token that may be valid is never refused: every call is 503 with
     * Retry-After (not 401 once some retries were spent), and the first call after the issuer is back is served.
     */
    @ParameterizedTest
    @ValueSource(strings = {"500", "garbage"})
    void whileTheKeySetCannotBeHadEveryCallIs503AndRecoveryIsNoticedAtOnce(String failure) throws Exception {
        try (TestIssuer failing = new TestIssuer("", false, rsa);
             TestServer own = TestServer.start(oauthEnv(failing), new cloud.dementia.server.TestTools()::catalog)) {
            failing.failJwks(failure);
            String token = TestIssuer.sign(rsa, failing.claims("alice", "memory:read").build());
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = own.send(own.bare("/tools").header("Authorization", "Bearer " + token).GET());
                assertEquals(503, r.statusCode(), "call " + (i + 1) + ": " + r.body());
                assertTrue(r.headers().firstValue("Retry-After").isPresent());
                assertThat(r.body(), containsString("the issuer's signing keys could not be fetched"));
            }
            assertTrue(failing.jwksFetches() <= 2, "failed fetches are not repeated on every call: " + failing.jwksFetches());
            failing.failJwks(null);
            Thread.sleep(IssuerKeys.RETRY_AFTER_FAILURE_MS + 100);
            HttpResponse<String> back = own.send(own.bare("/tools").header("Authorization", "Bearer " + token).GET());
            assertEquals(200, back.statusCode(), back.body());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://login.example.com", "https://login.example.com/", "https://login.example.com/realms/a"})
    void theIssuersMetadataIsLookedForWhereRfc8414AndOpenIdConnectPutIt(String issuerUrl) {
        String base = "https://login.example.com";
        String path = issuerUrl.substring(base.length()).replaceAll("/$", "");
        List<URI> expected = path.isEmpty()
                ? List.of(URI.create(base + "/.well-known/oauth-authorization-server"), URI.create(base + "/.well-known/openid-configuration"))
                : List.of(URI.create(base + "/.well-known/oauth-authorization-server" + path), URI.create(base + "/.well-known/openid-configuration" + path),
                URI.create(base + path + "/.well-known/openid-configuration"));
        assertEquals(expected, IssuerKeys.metadataUrls(issuerUrl));
    }
}
