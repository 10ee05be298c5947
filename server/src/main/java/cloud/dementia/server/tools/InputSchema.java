package cloud.dementia.server.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Builds a tool's JSON schema (type object) argument by argument. */
public final class InputSchema {

    private final ObjectNode schema = Json.object();
    private final ObjectNode properties = schema.putObject("properties");
    private final ArrayNode required = Json.array();

    private InputSchema() {
        schema.put("type", "object");
    }

    public static InputSchema object() {
        return new InputSchema();
    }

    public InputSchema string(String name, String description, boolean isRequired) {
        properties.putObject(name).put("type", "string").put("description", description);
        return require(name, isRequired);
    }

    public InputSchema choice(String name, String description, String defaultValue, String... values) {
        ObjectNode p = properties.putObject(name).put("type", "string").put("description", description);
        ArrayNode e = p.putArray("enum");
        for (String v : values) {
            e.add(v);
        }
        if (defaultValue != null) {
            p.put("default", defaultValue);
        }
        return this;
    }

    public InputSchema bool(String name, String description, boolean defaultValue) {
        properties.putObject(name).put("type", "boolean").put("description", description).put("default", defaultValue);
        return this;
    }

    public InputSchema integer(String name, String description, int defaultValue, int min, int max) {
        properties.putObject(name).put("type", "integer").put("description", description).put("default", defaultValue)
                .put("minimum", min).put("maximum", max);
        return this;
    }

    public InputSchema stringList(String name, String description, boolean isRequired) {
        ObjectNode p = properties.putObject(name).put("description", description);
        ArrayNode anyOf = p.putArray("anyOf");
        anyOf.addObject().put("type", "array").putObject("items").put("type", "string");
        anyOf.addObject().put("type", "string");
        return require(name, isRequired);
    }

    public InputSchema array(String name, String description, ObjectNode items, boolean isRequired) {
        properties.putObject(name).put("type", "array").put("description", description).set("items", items);
        return require(name, isRequired);
    }

    /** An optional list of JSON values of any kind but undefined: strings, numbers, booleans, nulls, lists, objects. */
    public InputSchema valueList(String name, String description) {
        ArrayNode types = properties.putObject(name).put("type", "array").put("description", description).putObject("items").putArray("type");
        for (String type : new String[] {"string", "number", "boolean", "null", "array", "object"}) {
            types.add(type);
        }
        return this;
    }

    /** The optional {@code project} argument every project-scoped tool takes. */
    public InputSchema project() {
        return string("project", "Project to work in (default: the session's project from switch_project, else `default`)", false);
    }

    private InputSchema require(String name, boolean isRequired) {
        if (isRequired) {
            required.add(name);
        }
        return this;
    }

    public ObjectNode build() {
        if (!required.isEmpty()) {
            schema.set("required", required);
        }
        return schema;
    }
}
