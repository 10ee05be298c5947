package cloud.dementia.server.tools;

import java.util.Objects;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One tool as clients see it: name, title, description, the JSON schema of its arguments, the hints MCP clients use
 * (read-only, destructive), and what it does. The same spec serves {@code /mcp}, {@code /execute} and {@code /tools}.
 *
 * @param name        tool name (the original server's)
 * @param title       human title
 * @param description what it does, for the model
 * @param inputSchema JSON schema (type object) of the arguments
 * @param readOnly    the tool does not change stored data
 * @param destructive the tool may delete data
 * @param handler     the implementation
 */
public record ToolSpec(String name, String title, String description, ObjectNode inputSchema, boolean readOnly, boolean destructive,
                       ToolHandler handler) {

    public ToolSpec {
        Objects.requireNonNull(name);
        Objects.requireNonNull(description);
        Objects.requireNonNull(inputSchema);
        Objects.requireNonNull(handler);
    }

    /** @return the tool as a list shows it: {@code name}, {@code title} (when it has one), {@code description}, {@code inputSchema}, {@code annotations} */
    public ObjectNode listing() {
        ObjectNode one = Json.object();
        one.put("name", name);
        if (title != null) {
            one.put("title", title);
        }
        one.put("description", description);
        one.set("inputSchema", inputSchema);
        one.set("annotations", ToolHints.of(this).toJson());
        return one;
    }
}
