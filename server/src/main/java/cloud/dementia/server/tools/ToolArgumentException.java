package cloud.dementia.server.tools;

/**
 * An argument is missing or breaks its rule; the message names the argument and the rule.
 * MCP: {@code isError: true}; {@code /execute}: 400.
 */
public final class ToolArgumentException extends ToolError {

    public ToolArgumentException(String argument, String rule) {
        super("argument `" + argument + "` " + rule);
    }
}
