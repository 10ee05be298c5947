package cloud.dementia.server.tools;

/** What a tool does. Throws {@link ToolError} (or {@link ToolArgumentException}) for failures the caller can act on. */
@FunctionalInterface
public interface ToolHandler {
    ToolOutput call(ToolCall call);
}
