package cloud.dementia.server.tools;

/**
 * A tool could not do what was asked, for a reason the caller can act on ("no context `x`", "needs force=true").
 * MCP: a result with {@code isError: true}; {@code /execute}: {@code success: false}.
 */
public class ToolError extends RuntimeException {

    public ToolError(String message) {
        super(message);
    }
}
