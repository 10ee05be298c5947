package cloud.dementia.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest {

    static ConfigException bad(String name, String value) {
        return bad(Map.of(), name, value);
    }

    /** @return what loading the environment with {@code name=value} on top of {@code env} throws */
    static ConfigException bad(Map<String, String> env, String name, String value) {
        Map<String, String> all = new HashMap<>(env);
        all.put(name, value);
        return assertThrows(ConfigException.class, () -> Settings.load(all));
    }

    @Test
    void everyContractVariableHasTheContractDefault() {
        Settings s = Settings.load(Map.of());
        assertEquals(8080, s.port());
        assertEquals(Optional.empty(), s.databaseUrl());
        assertEquals(Path.of("./.dementia").toAbsolutePath().normalize(), s.dataDir(), "the contract default, made absolute at start");
        assertTrue(s.apiKeys().isEmpty());
        assertEquals("admin", s.adminUser());
        assertEquals(Optional.empty(), s.adminPassword());
        assertTrue(s.metricsAuth());
        assertEquals("dementia-cloud", s.metricsApplication());
        assertTrue(s.allowedOrigins().isEmpty());
        assertEquals("dementia-cloud", s.applicationName());
        assertEquals(20, s.pools().budget());
        assertEquals(5, s.pools().maxPerSchema());
        assertEquals(0, s.pools().minIdle());
        assertEquals(Duration.ofMillis(5000), s.pools().acquireTimeout());
        assertEquals(Duration.ofMillis(10000), s.pools().leakThreshold());
        assertEquals(Duration.ofMillis(30000), s.pools().statementTimeout());
        assertEquals(Duration.ofSeconds(300), s.idleCleanupEvery());
        assertEquals(Duration.ofSeconds(600), s.pools().idleMax());
        assertEquals(4 << 20, s.maxBodyBytes());
        assertEquals(256 << 20, s.importMaxBytes(), "an export of 100,000 contexts imports back");
    }

    @Test
    void everyVariableIsReadFromTheEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("PORT", "9999");
        env.put("DATABASE_URL", "postgres://u:p@db.example:5433/app?sslmode=require");
        env.put("DEMENTIA_DATA_DIR", "/var/lib/dementia");
        env.put("DEMENTIA_API_KEY", "key-one-0123456789");
        env.put("DEMENTIA_API_KEYS", "key-two-0123456789, key-three-0123456789");
        env.put("DEMENTIA_ADMIN_USER", "ops");
        env.put("DEMENTIA_ADMIN_PASSWORD", "long-enough");
        env.put("DEMENTIA_METRICS_AUTH", "false");
        env.put("DEMENTIA_METRICS_APPLICATION", "dementia-blue");
        env.put("DEMENTIA_ALLOWED_ORIGINS", "https://a.example, https://b.example");
        env.put("DB_APPLICATION_NAME", "dementia-blue");
        env.put("DB_POOL_BUDGET", "40");
        env.put("DB_POOL_MAX_PER_SCHEMA", "8");
        env.put("DB_POOL_MIN_IDLE", "1");
        env.put("DB_POOL_ACQUIRE_TIMEOUT_MS", "3000");
        env.put("DB_LEAK_THRESHOLD_MS", "20000");
        env.put("DB_STATEMENT_TIMEOUT_MS", "15000");
        env.put("DB_IDLE_CLEANUP_INTERVAL_S", "60");
        env.put("DB_IDLE_MAX_S", "120");
        env.put("DB_PREPARED_STATEMENTS", "off");
        env.put("DEMENTIA_MAX_BODY_BYTES", "1048576");
        env.put("DEMENTIA_IMPORT_MAX_BYTES", "1073741824");
        env.put("DEMENTIA_SESSION_IDLE_S", "3600");
        env.put("DEMENTIA_HEADER_TIMEOUT_MS", "5000");
        env.put("DEMENTIA_BODY_TIMEOUT_MS", "7000");
        env.put("DEMENTIA_EMBEDDINGS", "off");
        env.put("DEMENTIA_VECTOR_CACHE_MB", "16");
        env.put("DEMENTIA_OAUTH_ISSUER", "https://login.example.com/realms/dementia");
        env.put("DEMENTIA_PUBLIC_URL", "https://memory.example.com/");
        env.put("DEMENTIA_OAUTH_JWKS_URL", "https://login.example.com/realms/dementia/certs");
        Settings s = Settings.load(env);
        assertEquals(9999, s.port());
        assertEquals("jdbc:postgresql://db.example:5433/app?sslmode=require", s.externalTarget().orElseThrow().jdbcUrl());
        assertEquals("dementia-blue", s.externalTarget().orElseThrow().applicationName());
        assertEquals(Path.of("/var/lib/dementia"), s.dataDir());
        assertEquals(3, s.apiKeys().size());
        assertEquals("ops", s.adminUser());
        assertEquals(Optional.of("long-enough"), s.adminPassword());
        assertFalse(s.metricsAuth());
        assertEquals("dementia-blue", s.metricsApplication());
        assertEquals(2, s.allowedOrigins().size());
        assertEquals(40, s.pools().budget());
        assertEquals(8, s.pools().maxPerSchema());
        assertEquals(1, s.pools().minIdle());
        assertEquals(Duration.ofMillis(3000), s.pools().acquireTimeout());
        assertEquals(Duration.ofMillis(20000), s.pools().leakThreshold());
        assertEquals(Duration.ofMillis(15000), s.pools().statementTimeout());
        assertEquals(Duration.ofSeconds(60), s.idleCleanupEvery());
        assertEquals(Duration.ofSeconds(120), s.pools().idleMax());
        assertEquals(Settings.PreparedStatements.OFF, s.preparedStatements());
        assertEquals(1048576, s.maxBodyBytes());
        assertEquals(1073741824, s.importMaxBytes());
        assertEquals(java.time.Duration.ofHours(1), s.sessionIdle());
        assertEquals(java.time.Duration.ofSeconds(5), s.headerTimeout());
        assertEquals(java.time.Duration.ofSeconds(7), s.bodyTimeout());
        assertFalse(s.embeddings());
        assertEquals(16L * 1024 * 1024, s.vectorCacheBytes());
        assertEquals("https://login.example.com/realms/dementia", s.oauth().orElseThrow().issuer());
        assertEquals("https://memory.example.com", s.oauth().orElseThrow().publicUrl(), "the origin, without the trailing slash");
        assertEquals(Optional.of(java.net.URI.create("https://login.example.com/realms/dementia/certs")), s.oauth().orElseThrow().jwksUrl());
        assertEquals(Settings.VARIABLES.size(), env.size());
    }

    @Test
    void badValuesNameTheVariableAndTheRule() {
        assertEquals("DB_POOL_BUDGET=abc is not a whole number", bad("DB_POOL_BUDGET", "abc").getMessage());
        assertThat(bad("DB_POOL_BUDGET", "1").getMessage(), startsWith("DB_POOL_BUDGET=1 is too small: it must be at least 2"));
        assertThat(bad("DB_POOL_MAX_PER_SCHEMA", "21").getMessage(), containsString("exceeds DB_POOL_BUDGET=20"));
        assertThat(bad("DB_POOL_MIN_IDLE", "21").getMessage(), containsString("DB_POOL_MIN_IDLE=21 exceeds DB_POOL_BUDGET=20"));
        assertThat(bad("PORT", "70000").getMessage(), startsWith("PORT=70000 is too large"));
        assertThat(bad("DB_POOL_ACQUIRE_TIMEOUT_MS", "10").getMessage(), startsWith("DB_POOL_ACQUIRE_TIMEOUT_MS=10 is too small"));
        assertThat(bad("DB_IDLE_MAX_S", "0").getMessage(), startsWith("DB_IDLE_MAX_S=0 is too small"));
        assertThat(bad("DEMENTIA_MAX_BODY_BYTES", "100").getMessage(), startsWith("DEMENTIA_MAX_BODY_BYTES=100 is too small"));
        assertThat(bad("DEMENTIA_IMPORT_MAX_BYTES", "100").getMessage(), startsWith("DEMENTIA_IMPORT_MAX_BYTES=100 is too small"));
        assertEquals("DEMENTIA_IMPORT_MAX_BYTES=4GB is not a whole number", bad("DEMENTIA_IMPORT_MAX_BYTES", "4GB").getMessage());
        assertThat(bad("DEMENTIA_METRICS_AUTH", "maybe").getMessage(), containsString("is not a boolean"));
        assertThat(bad("DEMENTIA_METRICS_APPLICATION", "two words").getMessage(), containsString("is not a valid application tag"));
        assertEquals("DB_PREPARED_STATEMENTS=sometimes is not auto, on or off", bad("DB_PREPARED_STATEMENTS", "sometimes").getMessage());
        assertThat(bad("DATABASE_URL", "mysql://u@h/db").getMessage(), startsWith("DATABASE_URL must start with postgres://"));
        assertThat(bad("DATABASE_URL", "postgres://u:p@/db").getMessage(), startsWith("DATABASE_URL names no host"));
        assertThat(bad("DATABASE_URL", "postgres://u:p@host:5432").getMessage(), startsWith("DATABASE_URL names no database"));
        assertThat(bad("DATABASE_URL", "postgres://u:p ss@host/db").getMessage(), containsString("percent-encode"));
        assertThat(bad("DEMENTIA_API_KEY", "short").getMessage(), containsString("at least 16"));
        assertThat(bad("DEMENTIA_ADMIN_PASSWORD", "short").getMessage(), containsString("at least 8"));
        assertFalse(bad("DATABASE_URL", "postgres://user:secretpw@/db").getMessage().contains("secretpw"), "no password in messages");
    }

    /** #11: OAuth is off unless DEMENTIA_OAUTH_ISSUER is set; then the public URL is required, and every URL is https (http on localhost). */
    @Test
    void oauthNeedsTheIssuerAndThePublicUrlOverTls() {
        assertTrue(Settings.load(Map.of()).oauth().isEmpty());
        assertEquals("DEMENTIA_PUBLIC_URL is required with DEMENTIA_OAUTH_ISSUER: the URL clients reach this server at (for example "
                + "https://memory.example.com), which access tokens must name as their audience", bad("DEMENTIA_OAUTH_ISSUER", "https://login.example.com").getMessage());
        Map<String, String> oauth = Map.of("DEMENTIA_OAUTH_ISSUER", "https://login.example.com", "DEMENTIA_PUBLIC_URL", "https://memory.example.com");
        assertThat(bad(oauth, "DEMENTIA_OAUTH_ISSUER", "http://login.example.com").getMessage(), containsString("is not https: OAuth needs TLS"));
        assertThat(bad(oauth, "DEMENTIA_PUBLIC_URL", "memory.example.com").getMessage(), containsString("is not an absolute http(s) URL"));
        assertThat(bad(oauth, "DEMENTIA_PUBLIC_URL", "https://example.com/memory").getMessage(), containsString("has a path: give the origin only"));
        assertThat(bad(oauth, "DEMENTIA_OAUTH_JWKS_URL", "https://login.example.com/keys?x=1").getMessage(), containsString("has a query or fragment"));
        assertThat(bad("DEMENTIA_OAUTH_JWKS_URL", "https://login.example.com/keys").getMessage(), containsString("DEMENTIA_OAUTH_ISSUER is not"));
        Map<String, String> local = new HashMap<>(oauth);
        local.put("DEMENTIA_OAUTH_ISSUER", "http://127.0.0.1:9000");
        assertEquals("http://127.0.0.1:9000", Settings.load(local).oauth().orElseThrow().issuer(), "a local issuer may use http");
    }
}
