package cloud.dementia.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A request answered with a JSON-RPC error: its code, message and optional data, and the HTTP status the answer goes
 * out with (200 for an error of the request itself; 400 and others where the transport says so).
 */
public final class McpError extends RuntimeException {

    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** MCP: the resource does not exist (2025 versions; 2026-07-28 answers {@link #INVALID_PARAMS}). */
    public static final int RESOURCE_NOT_FOUND = -32002;
    /** MCP 2026-07-28: a header and the body disagree, or a required header is missing or malformed. */
    public static final int HEADER_MISMATCH = -32020;
    /** MCP 2026-07-28: the request needs a client capability the client did not declare. */
    public static final int MISSING_CLIENT_CAPABILITY = -32021;
    /** MCP 2026-07-28: the protocol version asked for is not spoken here ({@code data}: {@code supported}, {@code requested}). */
    public static final int UNSUPPORTED_VERSION = -32022;

    private final int code;
    private final transient JsonNode data;
    private final int httpStatus;

    public McpError(int code, String message) {
        this(code, message, null, 200);
    }

    public McpError(int code, String message, JsonNode data, int httpStatus) {
        super(message, null, false, false);
        this.code = code;
        this.data = data;
        this.httpStatus = httpStatus;
    }

    public int code() {
        return code;
    }

    /** @return the error's {@code data}, or {@code null} */
    public JsonNode data() {
        return data;
    }

    /** @return the HTTP status of an answer that holds only this error */
    public int httpStatus() {
        return httpStatus;
    }

    public static McpError invalidParams(String message) {
        return new McpError(INVALID_PARAMS, message);
    }
}
