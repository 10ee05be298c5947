package cloud.dementia.server.auth;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import cloud.dementia.server.mcp.McpEndpoint;

/**
 * This server as an OAuth 2.1 protected resource (MCP authorization 2025-06-18, RFC 9728): the one authorization server
 * whose access tokens it accepts and the URL clients know it by.
 * <p>
 * The resource identifier is the public URL: one token serves {@code /mcp}, {@code /execute} and {@code /tools} alike.
 * Clients that ask for the most specific URI instead (RFC 8707 {@code resource=<public url>/mcp}, as the MCP
 * authorization spec recommends) get tokens for {@code <public url>/mcp}, and a URL parser turns the bare origin into
 * {@code <public url>/} (the TypeScript SDK does): all three are accepted as {@code aud}.
 *
 * @param issuer    {@code DEMENTIA_OAUTH_ISSUER}: the exact {@code iss} of every accepted token
 * @param publicUrl {@code DEMENTIA_PUBLIC_URL}, an origin without a trailing slash
 * @param jwksUrl   {@code DEMENTIA_OAUTH_JWKS_URL}, or empty to find it in the issuer's metadata
 */
public record ProtectedResource(String issuer, String publicUrl, Optional<URI> jwksUrl) {

    /** RFC 9728's well-known path; the resource {@code <public url>/mcp} has it with {@code /mcp} appended. */
    public static final String METADATA_PATH = "/.well-known/oauth-protected-resource";

    /** @return the metadata URL for {@code WWW-Authenticate: Bearer resource_metadata="..."} */
    public String metadataUrl() {
        return publicUrl + METADATA_PATH;
    }

    /** @return the {@code aud} values a token may carry (one of them is enough) */
    public Set<String> audiences() {
        return Set.of(publicUrl, publicUrl + "/", publicUrl + McpEndpoint.PATH);
    }

    /**
     * RFC 9728 metadata of the resource whose identifier is the public URL followed by {@code suffix} (its
     * {@code resource} must be the URL the metadata's well-known address was made from).
     *
     * @param suffix {@code ""} for the server, {@code /mcp} for the MCP endpoint
     */
    public Map<String, Object> metadata(String suffix) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", publicUrl + suffix);
        m.put("authorization_servers", java.util.List.of(issuer));
        m.put("bearer_methods_supported", java.util.List.of("header"));
        m.put("scopes_supported", TokenScope.SUPPORTED);
        m.put("resource_name", "Dementia Cloud");
        return m;
    }
}
