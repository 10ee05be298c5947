package cloud.dementia.server.mcp.conformance;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.mcp.McpCall;
import cloud.dementia.server.mcp.McpError;
import cloud.dementia.server.mcp.McpFeatures;
import cloud.dementia.server.mcp.McpRequest;
import cloud.dementia.server.mcp.McpVersion;
import cloud.dementia.server.tools.Json;

/**
 * The tools, prompts and resources the official MCP conformance suite calls ({@code test_simple_text},
 * {@code test://static-text}, ...), served through our MCP layer, so that the suite can check the layer itself on every
 * scenario; what each must answer is in the suite's scenario sources. Test sources only: the product serves
 * {@code MemoryFeatures}.
 */
final class ConformanceFeatures implements McpFeatures {

    static final String IMG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    static final String WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

    private record Tool(ObjectNode listing, Function<McpCall, ObjectNode> call) {
    }

    private final Map<String, Tool> tools = new LinkedHashMap<>();
    private final Map<String, ObjectNode> prompts = new LinkedHashMap<>();
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    private final byte[] stateKey = new byte[32];

    ConformanceFeatures() {
        new SecureRandom().nextBytes(stateKey);
        tool("test_simple_text", "Returns simple text", c -> text("This is a simple text response for testing."));
        tool("test_image_content", "Returns an image", c -> content(image()));
        tool("test_audio_content", "Returns audio", c -> content(Json.object().put("type", "audio").put("data", WAV).put("mimeType", "audio/wav")));
        tool("test_embedded_resource", "Returns an embedded resource", c -> content(Json.object().put("type", "resource").set("resource",
                Json.object().put("uri", "test://embedded-resource").put("mimeType", "text/plain").put("text", "This is an embedded resource content."))));
        tool("test_multiple_content_types", "Returns text, an image and a resource", c -> content(
                Json.object().put("type", "text").put("text", "Multiple content types test:"), image(),
                Json.object().put("type", "resource").set("resource", Json.object().put("uri", "test://mixed-content-resource")
                        .put("mimeType", "application/json").put("text", "{\"test\":\"data\",\"value\":123}"))));
        tool("test_error_handling", "Always fails", c -> {
            ObjectNode r = text("This tool intentionally returns an error for testing");
            r.put("isError", true);
            return r;
        });
        tool("test_tool_with_progress", "Reports progress", c -> {
            for (int step = 0; step <= 100; step += 50) {
                c.progress(step, 100.0, "Completed step " + step + " of 100");
                sleep(50);
            }
            return text(c.params().path("_meta").path("progressToken").asText(""));
        });
        tool("test_tool_with_logging", "Logs three messages", c -> {
            c.log("info", Json.MAPPER.getNodeFactory().textNode("Tool execution started"));
            sleep(50);
            c.log("info", Json.MAPPER.getNodeFactory().textNode("Tool processing data"));
            sleep(50);
            c.log("info", Json.MAPPER.getNodeFactory().textNode("Tool execution completed"));
            return text("Tool with logging executed successfully");
        });
        tool("test_logging_tool", "Logs only when the request asks for a level", c -> {
            c.log("info", Json.MAPPER.getNodeFactory().textNode("logging tool ran"));
            return text("Logged what the request asked for");
        });
        tool("test_sampling", "Asks the client's model", schema("prompt", "string"), c -> {
            ObjectNode ask = Json.object();
            ask.putArray("messages").addObject().put("role", "user").putObject("content").put("type", "text")
                    .put("text", c.params().path("arguments").path("prompt").asText());
            ask.put("maxTokens", 100);
            JsonNode answer = c.ask("sampling/createMessage", ask, Duration.ofSeconds(30));
            return text("LLM response: " + answer.path("content").path("text").asText());
        });
        tool("test_elicitation", "Asks the user", schema("message", "string"), c -> {
            ObjectNode ask = Json.object().put("message", c.params().path("arguments").path("message").asText());
            ObjectNode s = ask.putObject("requestedSchema").put("type", "object");
            ObjectNode p = s.putObject("properties");
            p.putObject("username").put("type", "string").put("description", "User's response");
            p.putObject("email").put("type", "string").put("description", "User's email address");
            s.putArray("required").add("username").add("email");
            JsonNode answer = c.ask("elicitation/create", ask, Duration.ofSeconds(30));
            return text("User response: action=" + answer.path("action").asText() + ", content=" + Json.compact(answer.path("content")));
        });
        tool("test_elicitation_sep1034_defaults", "Asks with defaults", c -> {
            ObjectNode ask = Json.object().put("message", "Please review and update the form fields with defaults");
            ObjectNode s = ask.putObject("requestedSchema").put("type", "object");
            ObjectNode p = s.putObject("properties");
            p.putObject("name").put("type", "string").put("description", "User name").put("default", "John Doe");
            p.putObject("age").put("type", "integer").put("description", "User age").put("default", 30);
            p.putObject("score").put("type", "number").put("description", "User score").put("default", 95.5);
            ObjectNode status = p.putObject("status").put("type", "string").put("description", "User status");
            status.putArray("enum").add("active").add("inactive").add("pending");
            status.put("default", "active");
            p.putObject("verified").put("type", "boolean").put("description", "Verification status").put("default", true);
            s.putArray("required");
            JsonNode answer = c.ask("elicitation/create", ask, Duration.ofSeconds(30));
            return text("Elicitation completed: action=" + answer.path("action").asText() + ", content=" + Json.compact(answer.path("content")));
        });
        tool("test_elicitation_sep1330_enums", "Asks with every enum shape", c -> {
            ObjectNode ask = Json.object().put("message", "Please select options from the enum fields");
            ObjectNode s = ask.putObject("requestedSchema").put("type", "object");
            ObjectNode p = s.putObject("properties");
            p.putObject("untitledSingle").put("type", "string").putArray("enum").add("option1").add("option2").add("option3");
            ArrayNode oneOf = p.putObject("titledSingle").put("type", "string").putArray("oneOf");
            oneOf.addObject().put("const", "value1").put("title", "First Option");
            oneOf.addObject().put("const", "value2").put("title", "Second Option");
            oneOf.addObject().put("const", "value3").put("title", "Third Option");
            ObjectNode legacy = p.putObject("legacyEnum").put("type", "string");
            legacy.putArray("enum").add("opt1").add("opt2").add("opt3");
            legacy.putArray("enumNames").add("Option One").add("Option Two").add("Option Three");
            ObjectNode multi = p.putObject("untitledMulti").put("type", "array").put("minItems", 1).put("maxItems", 3);
            multi.putObject("items").put("type", "string").putArray("enum").add("option1").add("option2").add("option3");
            ArrayNode anyOf = p.putObject("titledMulti").put("type", "array").putObject("items").putArray("anyOf");
            anyOf.addObject().put("const", "value1").put("title", "First Choice");
            anyOf.addObject().put("const", "value2").put("title", "Second Choice");
            anyOf.addObject().put("const", "value3").put("title", "Third Choice");
            s.putArray("required");
            JsonNode answer = c.ask("elicitation/create", ask, Duration.ofSeconds(30));
            return text("Elicitation completed: action=" + answer.path("action").asText() + ", content=" + Json.compact(answer.path("content")));
        });
        ObjectNode schema2020 = (ObjectNode) Json.parse("""
                {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
                 "$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
                 "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},
                  "phone":{"type":"string"},"email":{"type":"string"}},
                 "allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],
                 "if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},
                 "else":{"required":["email"]},"additionalProperties":false}""");
        tool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)", schema2020,
                c -> text("JSON Schema 2020-12 tool called"));
        ObjectNode headerSchema = Json.object().put("type", "object");
        headerSchema.putObject("properties").putObject("region").put("type", "string").put("x-mcp-header", "Region")
                .put("description", "Mirrored in Mcp-Param-Region");
        tool("test_custom_header", "Echoes its region, which the request mirrors in a header", headerSchema,
                c -> text("region=" + c.params().path("arguments").path("region").asText("")));
        tool("test_missing_capability", "Needs the client's sampling", c -> {
            if (!c.clientCan("sampling")) {
                ObjectNode data = Json.object();
                data.putObject("requiredCapabilities").putObject("sampling");
                throw new McpError(McpError.MISSING_CLIENT_CAPABILITY, "this tool needs the sampling capability", data, 400);
            }
            return text("Success");
        });
        tool("test_streaming_elicitation", "Answers at once", c -> text("Answered without a request on the stream"));
        tool("test_trigger_tool_change", "Tells listeners the tool list changed", c -> {
            changed("notifications/tools/list_changed", Watch::tools);
            return text("Mutation triggered");
        });
        tool("test_trigger_prompt_change", "Tells listeners the prompt list changed", c -> {
            changed("notifications/prompts/list_changed", Watch::prompts);
            return text("Mutation triggered");
        });
        mrtrTools();
        prompt("test_simple_prompt", "Simple Test Prompt", "A prompt without arguments");
        prompt("test_prompt_with_arguments", "Prompt With Arguments", "A prompt with two arguments", "arg1", "arg2");
        prompt("test_prompt_with_embedded_resource", "Prompt With Embedded Resource", "A prompt with a resource", "resourceUri");
        prompt("test_prompt_with_image", "Prompt With Image", "A prompt with an image");
        prompt("test_input_required_result_prompt", "Prompt That Asks", "A prompt that asks the user first");
    }

    // ---------------------------------------------------------------- 2026-07-28 input_required

    private void mrtrTools() {
        tool("test_input_required_result_elicitation", "Asks the user's name", c -> {
            Optional<JsonNode> name = c.inputResponse("user_name");
            if (name.isEmpty() || !name.get().isObject()) {
                return required(Map.of("user_name", elicit("What is your name?", "name")), null);
            }
            return text("Hello, " + name.get().path("content").path("name").asText() + "!");
        });
        tool("test_input_required_result_sampling", "Asks the client's model", c -> {
            Optional<JsonNode> r = c.inputResponse("sample_request");
            if (r.isEmpty() || !r.get().isObject()) {
                return required(Map.of("sample_request", sample("What is the capital of France?", 100)), null);
            }
            return text("Model said: " + r.get().path("content").path("text").asText());
        });
        tool("test_input_required_result_list_roots", "Asks the client's roots", c -> {
            Optional<JsonNode> r = c.inputResponse("roots_request");
            if (r.isEmpty() || !r.get().isObject()) {
                return required(Map.of("roots_request", Json.object().put("method", "roots/list").set("params", Json.object())), null);
            }
            return text("Found " + r.get().path("roots").size() + " root(s)");
        });
        tool("test_input_required_result_request_state", "Asks and keeps state", c -> {
            Optional<JsonNode> r = c.inputResponse("confirm");
            if (r.isEmpty() || c.requestState().isEmpty()) {
                ObjectNode ask = elicitSchema("Please confirm");
                ((ObjectNode) ask.path("params").path("requestedSchema").path("properties")).putObject("ok").put("type", "boolean");
                ((ArrayNode) ask.path("params").path("requestedSchema").path("required")).add("ok");
                return required(Map.of("confirm", ask), sign("request-state:1"));
            }
            checkState(c, "request-state:1");
            return text("state-ok: confirmed=" + r.get().path("content").path("ok").asBoolean());
        });
        tool("test_input_required_result_multiple_inputs", "Asks three things at once", c -> {
            Optional<JsonNode> name = c.inputResponse("user_name");
            Optional<JsonNode> greeting = c.inputResponse("greeting");
            Optional<JsonNode> roots = c.inputResponse("client_roots");
            if (name.isEmpty() || greeting.isEmpty() || roots.isEmpty() || c.requestState().isEmpty()) {
                Map<String, ObjectNode> asks = new LinkedHashMap<>();
                asks.put("user_name", elicit("What is your name?", "name"));
                asks.put("greeting", sample("Generate a greeting", 50));
                asks.put("client_roots", Json.object().put("method", "roots/list").set("params", Json.object()));
                return required(asks, sign("multiple:1"));
            }
            checkState(c, "multiple:1");
            return text("Got all three: " + name.get().path("content").path("name").asText());
        });
        tool("test_input_required_result_multi_round", "Asks twice", c -> {
            Optional<JsonNode> step2 = c.inputResponse("step2");
            if (step2.isPresent() && c.requestState().isPresent()) {
                checkState(c, "round:2");
                return text("Done: color " + step2.get().path("content").path("color").asText());
            }
            Optional<JsonNode> step1 = c.inputResponse("step1");
            if (step1.isPresent() && c.requestState().isPresent()) {
                checkState(c, "round:1");
                return required(Map.of("step2", elicit("Step 2: What is your favorite color?", "color")), sign("round:2"));
            }
            return required(Map.of("step1", elicit("Step 1: What is your name?", "name")), sign("round:1"));
        });
        tool("test_input_required_result_tampered_state", "Refuses a state it did not sign", c -> {
            if (c.requestState().isPresent()) {
                checkState(c, "tamper:1");
                return text("state intact");
            }
            return required(Map.of("confirm", elicit("Please confirm", "ok")), sign("tamper:1"));
        });
        tool("test_input_required_result_capabilities", "Asks only what the client can answer", c -> {
            Map<String, ObjectNode> asks = new LinkedHashMap<>();
            if (c.clientCan("elicitation")) {
                asks.put("user_name", elicit("What is your name?", "name"));
            }
            if (c.clientCan("sampling")) {
                asks.put("greeting", sample("Generate a greeting", 50));
            }
            if (c.clientCan("roots")) {
                asks.put("client_roots", Json.object().put("method", "roots/list").set("params", Json.object()));
            }
            if (asks.isEmpty() || c.requestState().isPresent()) {
                return text("Asked what the client can answer");
            }
            return required(asks, sign("capabilities:1"));
        });
    }

    private static ObjectNode elicitSchema(String message) {
        ObjectNode ask = Json.object().put("method", "elicitation/create");
        ObjectNode params = ask.putObject("params").put("mode", "form").put("message", message);
        ObjectNode s = params.putObject("requestedSchema").put("type", "object");
        s.putObject("properties");
        s.putArray("required");
        return ask;
    }

    private static ObjectNode elicit(String message, String field) {
        ObjectNode ask = elicitSchema(message);
        ((ObjectNode) ask.path("params").path("requestedSchema").path("properties")).putObject(field).put("type", "string");
        ((ArrayNode) ask.path("params").path("requestedSchema").path("required")).add(field);
        return ask;
    }

    private static ObjectNode sample(String prompt, int maxTokens) {
        ObjectNode ask = Json.object().put("method", "sampling/createMessage");
        ObjectNode params = ask.putObject("params");
        params.putArray("messages").addObject().put("role", "user").putObject("content").put("type", "text").put("text", prompt);
        params.put("maxTokens", maxTokens);
        return ask;
    }

    private static ObjectNode required(Map<String, ObjectNode> asks, String state) {
        ObjectNode r = Json.object().put("resultType", "input_required");
        ObjectNode requests = r.putObject("inputRequests");
        asks.forEach(requests::set);
        if (state != null) {
            r.put("requestState", state);
        }
        return r;
    }

    private String sign(String state) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(stateKey, "HmacSHA256"));
            String body = Base64.getUrlEncoder().withoutPadding().encodeToString(state.getBytes(StandardCharsets.UTF_8));
            return body + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void checkState(McpCall c, String expected) {
        if (!c.requestState().orElse("").equals(sign(expected))) {
            throw new McpError(McpError.INVALID_PARAMS, "requestState integrity check failed");
        }
    }

    // ---------------------------------------------------------------- tools

    private void tool(String name, String description, Function<McpCall, ObjectNode> call) {
        tool(name, description, Json.object().put("type", "object").set("properties", Json.object()), call);
    }

    private void tool(String name, String description, ObjectNode inputSchema, Function<McpCall, ObjectNode> call) {
        ObjectNode listing = Json.object().put("name", name).put("description", description);
        listing.set("inputSchema", inputSchema);
        tools.put(name, new Tool(listing, call));
    }

    private static ObjectNode schema(String property, String type) {
        ObjectNode s = Json.object().put("type", "object");
        s.putObject("properties").putObject(property).put("type", type);
        s.putArray("required").add(property);
        return s;
    }

    private static ObjectNode text(String text) {
        return content(Json.object().put("type", "text").put("text", text));
    }

    private static ObjectNode image() {
        return Json.object().put("type", "image").put("data", IMG).put("mimeType", "image/png");
    }

    private static ObjectNode content(ObjectNode... items) {
        ObjectNode r = Json.object();
        ArrayNode content = r.putArray("content");
        for (ObjectNode item : items) {
            content.add(item);
        }
        return r;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public ObjectNode serverInfo(McpVersion version) {
        return Json.object().put("name", "dementia-conformance").put("version", "1.0.0").put("description", "Our MCP layer with the suite's fixtures");
    }

    @Override
    public boolean tools() {
        return true;
    }

    @Override
    public List<ObjectNode> listTools(McpRequest request) {
        return tools.values().stream().map(Tool::listing).toList();
    }

    @Override
    public Optional<JsonNode> toolSchema(String name) {
        return Optional.ofNullable(tools.get(name)).map(t -> t.listing().get("inputSchema"));
    }

    @Override
    public ObjectNode callTool(String name, McpCall call) {
        Tool tool = tools.get(name);
        if (tool == null) {
            throw McpError.invalidParams("Unknown tool: " + name);
        }
        return tool.call().apply(call);
    }

    // ---------------------------------------------------------------- prompts

    private void prompt(String name, String title, String description, String... arguments) {
        ObjectNode p = Json.object().put("name", name).put("title", title).put("description", description);
        ArrayNode args = p.putArray("arguments");
        for (String a : arguments) {
            args.addObject().put("name", a).put("description", "The " + a).put("required", true);
        }
        prompts.put(name, p);
    }

    @Override
    public boolean prompts() {
        return true;
    }

    @Override
    public List<ObjectNode> listPrompts(McpRequest request) {
        return List.copyOf(prompts.values());
    }

    @Override
    public ObjectNode getPrompt(String name, McpCall call) {
        JsonNode args = call.params().path("arguments");
        ObjectNode r = Json.object();
        ArrayNode messages = r.putArray("messages");
        switch (name) {
            case "test_simple_prompt" -> userText(messages, "This is a simple prompt for testing.");
            case "test_prompt_with_arguments" -> userText(messages, "Prompt with arguments: arg1='" + args.path("arg1").asText() + "', arg2='"
                    + args.path("arg2").asText() + "'");
            case "test_prompt_with_embedded_resource" -> {
                messages.addObject().put("role", "user").putObject("content").put("type", "resource").set("resource", Json.object()
                        .put("uri", args.path("resourceUri").asText()).put("mimeType", "text/plain").put("text", "Embedded resource content for testing."));
                userText(messages, "Please process the embedded resource above.");
            }
            case "test_prompt_with_image" -> {
                messages.addObject().put("role", "user").set("content", image());
                userText(messages, "Please analyze the image above.");
            }
            case "test_input_required_result_prompt" -> {
                Optional<JsonNode> context = call.inputResponse("user_context");
                if (context.isEmpty() || !context.get().isObject()) {
                    return required(Map.of("user_context", elicit("What context should the prompt use?", "context")), null);
                }
                userText(messages, "Prompt with context: " + context.get().path("content").path("context").asText());
            }
            default -> throw McpError.invalidParams("Unknown prompt: " + name);
        }
        return r;
    }

    private static void userText(ArrayNode messages, String text) {
        messages.addObject().put("role", "user").putObject("content").put("type", "text").put("text", text);
    }

    // ---------------------------------------------------------------- resources

    @Override
    public boolean resources() {
        return true;
    }

    @Override
    public ObjectNode listResources(McpCall call) {
        ObjectNode r = Json.object();
        ArrayNode list = r.putArray("resources");
        list.addObject().put("uri", "test://static-text").put("name", "static-text").put("description", "A static text resource").put("mimeType", "text/plain");
        list.addObject().put("uri", "test://static-binary").put("name", "static-binary").put("description", "A static image").put("mimeType", "image/png");
        list.addObject().put("uri", "test://watched-resource").put("name", "watched-resource").put("description", "A resource to subscribe to")
                .put("mimeType", "text/plain");
        return r;
    }

    @Override
    public ObjectNode listResourceTemplates(McpCall call) {
        ObjectNode r = Json.object();
        r.putArray("resourceTemplates").addObject().put("uriTemplate", "test://template/{id}/data").put("name", "template")
                .put("description", "Data by id").put("mimeType", "application/json");
        return r;
    }

    @Override
    public ObjectNode readResource(String uri, McpCall call) {
        ObjectNode r = Json.object();
        ArrayNode contents = r.putArray("contents");
        java.util.regex.Matcher template = java.util.regex.Pattern.compile("test://template/([^/]+)/data").matcher(uri);
        switch (uri) {
            case "test://static-text" -> contents.addObject().put("uri", uri).put("mimeType", "text/plain")
                    .put("text", "This is the content of the static text resource.");
            case "test://static-binary" -> contents.addObject().put("uri", uri).put("mimeType", "image/png").put("blob", IMG);
            case "test://watched-resource" -> contents.addObject().put("uri", uri).put("mimeType", "text/plain").put("text", "Watched resource content");
            default -> {
                if (!template.matches()) {
                    throw new McpError(call.version().stateless() ? McpError.INVALID_PARAMS : McpError.RESOURCE_NOT_FOUND,
                            "Resource not found: " + uri, Json.object().put("uri", uri), 200);
                }
                String id = template.group(1);
                contents.addObject().put("uri", uri).put("mimeType", "application/json")
                        .put("text", "{\"id\":\"" + id + "\",\"templateTest\":true,\"data\":\"Data for ID: " + id + "\"}");
            }
        }
        return r;
    }

    @Override
    public boolean completions() {
        return true;
    }

    @Override
    public ObjectNode complete(McpCall call) {
        String typed = call.params().path("argument").path("value").asText("");
        ObjectNode r = Json.object();
        ArrayNode values = r.putObject("completion").putArray("values");
        for (String v : List.of("test", "testing", "tested", "other")) {
            if (v.startsWith(typed)) {
                values.add(v);
            }
        }
        return r;
    }

    // ---------------------------------------------------------------- watching

    @Override
    public boolean subscriptions() {
        return true;
    }

    @Override
    public boolean listChanges() {
        return true;
    }

    @Override
    public void subscribe(String uri, boolean subscribe, McpRequest request) {
        if (subscribe) {
            subscribed.add(uri);
        } else {
            subscribed.remove(uri);
        }
    }

    private record Watch(boolean tools, boolean prompts, BlockingQueue<ObjectNode> queue) {
    }

    private void changed(String method, java.util.function.Predicate<Watch> wants) {
        for (Watch w : watches) {
            if (wants.test(w)) {
                w.queue().offer(Json.object().put("jsonrpc", "2.0").put("method", method).set("params", Json.object()));
            }
        }
    }

    @Override
    public McpWatch watch(McpRequest request, Filter filter) {
        Filter f = filter == null ? new Filter(false, false, false, new ArrayList<>(subscribed)) : filter;
        Watch watch = new Watch(f.toolsListChanged(), f.promptsListChanged(), new LinkedBlockingQueue<>());
        watches.add(watch);
        ObjectNode honoured = Json.object();
        if (f.toolsListChanged()) {
            honoured.put("toolsListChanged", true);
        }
        if (f.promptsListChanged()) {
            honoured.put("promptsListChanged", true);
        }
        if (!f.resourceSubscriptions().isEmpty()) {
            f.resourceSubscriptions().forEach(honoured.putArray("resourceSubscriptions")::add);
        }
        return new McpWatch() {
            private volatile boolean open = true;

            @Override
            public ObjectNode honoured() {
                return honoured;
            }

            @Override
            public Optional<ObjectNode> next(Duration wait) throws InterruptedException {
                return Optional.ofNullable(watch.queue().poll(wait.toMillis(), TimeUnit.MILLISECONDS));
            }

            @Override
            public boolean open() {
                return open;
            }

            @Override
            public void close() {
                open = false;
                watches.remove(watch);
            }
        };
    }
}
