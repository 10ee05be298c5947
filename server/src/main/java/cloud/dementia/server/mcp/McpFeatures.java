package cloud.dementia.server.mcp;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a server offers through MCP: its tools, prompts, resources, completions and what can be watched, each defined
 * once and served alike through every version by {@link McpProtocol}. The memory server's are {@link MemoryFeatures};
 * the tests' conformance server has its own. A method that is not offered keeps its default: the protocol then answers
 * {@code -32601} and does not announce the capability.
 */
public interface McpFeatures {

    /** Who the server is: name, version, and (2025-06-18 on) title, (2025-11-25 on) description and icons. */
    ObjectNode serverInfo(McpVersion version);

    /** @return what an assistant should know before it starts (empty for none) */
    default Optional<String> instructions() {
        return Optional.empty();
    }

    default boolean tools() {
        return false;
    }

    /** @return the tools the request's caller may call, as the request's version lists them, in a fixed order */
    default List<ObjectNode> listTools(McpRequest request) {
        return List.of();
    }

    /** @return the input schema of a tool, for the headers a 2026-07-28 request must mirror ({@code x-mcp-header}) */
    default Optional<JsonNode> toolSchema(String name) {
        return Optional.empty();
    }

    /**
     * @return the result of {@code tools/call} (its {@code content}, {@code isError}, or a 2026-07-28
     *         {@code input_required} result)
     * @throws McpError {@code -32602} for a tool that does not exist
     */
    default ObjectNode callTool(String name, McpCall call) {
        throw McpError.invalidParams("Unknown tool: " + name);
    }

    default boolean prompts() {
        return false;
    }

    default List<ObjectNode> listPrompts(McpRequest request) {
        return List.of();
    }

    default ObjectNode getPrompt(String name, McpCall call) {
        throw McpError.invalidParams("Unknown prompt: " + name);
    }

    default boolean resources() {
        return false;
    }

    default ObjectNode listResources(McpCall call) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: resources/list");
    }

    default ObjectNode listResourceTemplates(McpCall call) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: resources/templates/list");
    }

    default ObjectNode readResource(String uri, McpCall call) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: resources/read");
    }

    default boolean completions() {
        return false;
    }

    default ObjectNode complete(McpCall call) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: completion/complete");
    }

    /** @return whether resources can be watched ({@code resources/subscribe}, {@code subscriptions/listen}) */
    default boolean subscriptions() {
        return false;
    }

    /** @return whether the tool and prompt lists may change while a client watches ({@code listChanged}) */
    default boolean listChanges() {
        return false;
    }

    /**
     * A session (2025 versions) subscribes to, or unsubscribes from, a resource; kept where every replica finds it.
     *
     * @throws McpError {@code -32602} for a resource that cannot be watched
     */
    default void subscribe(String uri, boolean subscribe, McpRequest request) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: resources/" + (subscribe ? "subscribe" : "unsubscribe"));
    }

    /**
     * Opens a watch: over the resources a session subscribed to ({@code filter} null: read from where subscriptions
     * are kept, again and again) or over what a {@code subscriptions/listen} asked for.
     *
     * @throws McpError {@code -32602} for a resource that cannot be watched
     */
    default McpWatch watch(McpRequest request, Filter filter) {
        throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: subscriptions/listen");
    }

    /** What a {@code subscriptions/listen} asks for. */
    record Filter(boolean toolsListChanged, boolean promptsListChanged, boolean resourcesListChanged, List<String> resourceSubscriptions) {
    }

    /** A watch, open until closed: the notifications (method and params) it has for the client. */
    interface McpWatch extends AutoCloseable {

        /** @return what was agreed of the filter (the {@code notifications} of the acknowledgement) */
        ObjectNode honoured();

        /** @return the next notification, waiting at most {@code wait}; empty when there is none yet */
        Optional<ObjectNode> next(Duration wait) throws InterruptedException;

        /** @return whether it still watches (false once the server stops, or the session it follows ended) */
        boolean open();

        @Override
        void close();
    }
}
