package cloud.dementia.server.mcp;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The protocol versions this server speaks, oldest first. The first four are negotiated by {@code initialize} and
 * live in a session ({@code Mcp-Session-Id}); 2026-07-28 is stateless: every request names its version (header and
 * {@code _meta}) and no session is opened. What differs between them is asked of the version here, so the next version
 * is one constant and the places that test for it.
 */
public enum McpVersion {

    V2024_11_05("2024-11-05"),
    V2025_03_26("2025-03-26"),
    V2025_06_18("2025-06-18"),
    V2025_11_25("2025-11-25"),
    V2026_07_28("2026-07-28");

    /** The newest version negotiated by {@code initialize}: what a client asking for one we do not speak gets. */
    public static final McpVersion NEWEST_WITH_SESSIONS = V2025_11_25;
    /** What a request in a session without an {@code MCP-Protocol-Version} header is taken to speak (as the 2025-06-18 transport says). */
    public static final McpVersion ASSUMED_WITHOUT_HEADER = V2025_03_26;

    private final String id;

    McpVersion(String id) {
        this.id = id;
    }

    /** @return the version string on the wire */
    public String id() {
        return id;
    }

    /** @return the version with this string, if spoken here */
    public static Optional<McpVersion> of(String id) {
        return Arrays.stream(values()).filter(v -> v.id.equals(id)).findFirst();
    }

    /** @return every version string spoken here, oldest first */
    public static List<String> ids() {
        return Arrays.stream(values()).map(McpVersion::id).toList();
    }

    /** @return whether this version is {@code other} or newer */
    public boolean atLeast(McpVersion other) {
        return compareTo(other) >= 0;
    }

    /** @return whether requests carry their version and capabilities and no session is kept (2026-07-28 on) */
    public boolean stateless() {
        return atLeast(V2026_07_28);
    }

    /** @return whether a body may be a JSON-RPC batch (2025-03-26 and before; 2025-06-18 removed batches) */
    public boolean batches() {
        return !atLeast(V2025_06_18);
    }

    /** @return whether tools have {@code title} and {@code outputSchema}/{@code structuredContent} (2025-06-18 on) */
    public boolean titlesAndStructuredContent() {
        return atLeast(V2025_06_18);
    }

    /** @return whether tools, prompts, resources and the server carry icons, and the server a description (2025-11-25 on) */
    public boolean icons() {
        return atLeast(V2025_11_25);
    }

    /** @return whether results say what they are ({@code resultType}) and lists and reads how long to keep them (2026-07-28 on) */
    public boolean typedResults() {
        return atLeast(V2026_07_28);
    }

    @Override
    public String toString() {
        return id;
    }
}
