package cloud.dementia.server.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The MCP tool annotations of a {@link ToolSpec}, decided in one place for {@code /mcp} and {@code /tools}: a read-only
 * tool is idempotent and never destructive; no tool reaches outside its own database (closed world).
 *
 * @param readOnly    {@code readOnlyHint}
 * @param destructive {@code destructiveHint}
 * @param idempotent  {@code idempotentHint}
 * @param openWorld   {@code openWorldHint}
 */
public record ToolHints(boolean readOnly, boolean destructive, boolean idempotent, boolean openWorld) {

    public static ToolHints of(ToolSpec spec) {
        return new ToolHints(spec.readOnly(), !spec.readOnly() && spec.destructive(), spec.readOnly(), false);
    }

    /** As MCP names them: {@code {"readOnlyHint":..,"destructiveHint":..,"idempotentHint":..,"openWorldHint":..}}. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("readOnlyHint", readOnly);
        o.put("destructiveHint", destructive);
        o.put("idempotentHint", idempotent);
        o.put("openWorldHint", openWorld);
        return o;
    }
}
