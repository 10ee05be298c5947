package cloud.dementia.server.http;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * #9: generated bad arguments for every tool, over {@code /execute} and MCP: wrong types, nulls, huge strings, NUL and
 * unpaired surrogates, deep nesting, numbers out of range. Every answer is a success, a tool error, or a 4xx whose
 * message names the argument — never a 500, a 503 or a hang. The seed is printed; rerun one with
 * {@code -Dfuzz.seed=<seed>}.
 */
class ToolFuzzTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("DB_STATEMENT_TIMEOUT_MS", "5000"), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** One generated value and whether it breaks the argument's declared type (then a 400 naming it is due). */
    private record Mutation(String what, JsonNode value, boolean breaksType) {
    }

    @Test
    void everyToolAnswersEveryBadArgumentWithoutA500() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("ToolFuzzTest seed=" + seed + " (rerun: mvn -pl server verify -Dtest=ToolFuzzTest -Dfuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        JsonNode tools = Json.parse(server.get("/tools").body()).path("tools");
        String session = server.initializeMcp(server.request("/mcp")).headers().firstValue("Mcp-Session-Id").orElseThrow();
        List<String> problems = new ArrayList<>();
        int cases = 0;
        for (JsonNode tool : tools) {
            String name = tool.path("name").asText();
            JsonNode properties = tool.path("inputSchema").path("properties");
            ObjectNode baseline = baseline(tool.path("inputSchema"));
            for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> arg = it.next();
                for (Mutation m : mutations(arg.getValue(), random)) {
                    ObjectNode arguments = baseline.deepCopy();
                    if (arg.getKey().equals("project") || name.equals("delete_project") || name.equals("create_project")
                            || name.equals("switch_project")) {
                        arguments.put("project", "fuzz");
                    }
                    arguments.set(arg.getKey(), m.value());
                    String where = name + "." + arg.getKey() + " <- " + m.what() + " (seed " + seed + ")";
                    cases++;
                    HttpResponse<String> res = server.send(server.request("/execute").header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":" + Json.compact(name) + ",\"arguments\":" + wire(arguments) + "}")));
                    check(where, arg.getKey(), m, res, problems);
                    if (cases % 7 == 0) {
                        checkMcp(where, name, arguments, session, problems);
                    }
                }
            }
        }
        System.out.println("ToolFuzzTest: " + cases + " cases, " + problems.size() + " problems");
        if (!problems.isEmpty()) {
            fail(problems.size() + " of " + cases + " answers broke the rules:\n" + String.join("\n", problems.subList(0, Math.min(40, problems.size()))));
        }
        assertTrue(cases > 300, "cases: " + cases);
    }

    private static void check(String where, String argument, Mutation m, HttpResponse<String> res, List<String> problems) {
        int status = res.statusCode();
        String body = res.body();
        if (status >= 500 || status == 404 || status == 401) {
            problems.add(where + ": " + status + " " + abbreviate(body));
            return;
        }
        if (status == 400 && !body.contains(argument)) {
            problems.add(where + ": 400 without naming `" + argument + "`: " + abbreviate(body));
            return;
        }
        if (m.breaksType() && status == 200 && Json.parse(body).path("success").asBoolean()) {
            problems.add(where + ": a value of the wrong type was accepted: " + abbreviate(body));
        }
    }

    private static void checkMcp(String where, String tool, ObjectNode arguments, String session, List<String> problems) throws Exception {
        ObjectNode call = Json.object();
        call.put("jsonrpc", "2.0").put("id", 9).put("method", "tools/call");
        call.putObject("params").put("name", tool).set("arguments", arguments);
        HttpResponse<String> res = server.send(server.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Mcp-Session-Id", session)
                .POST(HttpRequest.BodyPublishers.ofString(wire(call))));
        if (res.statusCode() == 400 && res.body().contains("nesting depth")) {
            return; // the transport's own limit (64 levels), before any tool: a JSON-RPC parse error
        }
        if (res.statusCode() != 200 && res.statusCode() != 413) {
            problems.add("MCP " + where + ": " + res.statusCode() + " " + abbreviate(res.body()));
            return;
        }
        JsonNode answer = res.statusCode() == 200 ? Json.parse(res.body()) : Json.object();
        if (answer.has("error") && answer.path("error").path("code").asInt() == -32602 && !answer.toString().contains("argument `")) {
            problems.add("MCP " + where + ": invalid params without naming the argument " + abbreviate(res.body()));
        }
        if (answer.has("error") && answer.path("error").path("code").asInt() == -32603) {
            problems.add("MCP " + where + ": internal error " + abbreviate(res.body()));
        }
        if (answer.path("result").path("isError").asBoolean() && answer.toString().contains("internal error")) {
            problems.add("MCP " + where + ": internal error " + abbreviate(res.body()));
        }
    }

    /** JSON as a client sends it: an unpaired surrogate as its escape, since UTF-8 cannot carry it (it would arrive as '?'). */
    private static String wire(JsonNode value) {
        return Json.compact(value).replace("\uD800", "\\ud800");
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    /** Arguments that satisfy the schema: each required one with a plain value of its type. */
    private static ObjectNode baseline(JsonNode schema) {
        ObjectNode out = Json.object();
        List<String> required = new ArrayList<>();
        schema.path("required").forEach(r -> required.add(r.asText()));
        schema.path("properties").fields().forEachRemaining(e -> {
            if (required.contains(e.getKey())) {
                out.set(e.getKey(), plain(e.getKey(), e.getValue()));
            }
        });
        return out;
    }

    private static JsonNode plain(String name, JsonNode p) {
        if (p.has("enum")) {
            return p.path("enum").get(0);
        }
        if (p.has("anyOf")) {
            return F.arrayNode().add("fuzz");
        }
        return switch (p.path("type").asText()) {
            case "integer" -> F.numberNode(p.path("default").asInt(p.path("minimum").asInt(1)));
            case "boolean" -> F.booleanNode(true);
            case "array" -> {
                ArrayNode a = F.arrayNode();
                JsonNode items = p.path("items");
                a.add(items.path("type").asText().equals("object") ? baseline(items) : F.textNode("fuzz"));
                yield a;
            }
            case "object" -> baseline(p);
            default -> F.textNode(name.equals("query") ? "SELECT 1" : "fuzz-" + name);
        };
    }

    /** Bad and odd values for one argument, some fixed, some drawn from the seed. */
    private static List<Mutation> mutations(JsonNode p, Random random) {
        String type = p.has("anyOf") ? "list" : p.path("type").asText(p.has("enum") ? "string" : "any");
        boolean typed = !type.equals("any");
        List<Mutation> out = new ArrayList<>();
        out.add(new Mutation("null", F.nullNode(), false));
        out.add(new Mutation("NUL in a string", F.textNode("a\u0000b"), typed && !type.equals("integer") && !type.equals("boolean")));
        out.add(new Mutation("unpaired surrogate", F.textNode("x\uD800y"), typed && !type.equals("integer") && !type.equals("boolean")));
        out.add(new Mutation("200,000 characters", F.textNode(randomText(random, 200_000)), typed && !type.equals("string") && !type.equals("list")));
        out.add(new Mutation("empty string", F.textNode(""), false));
        out.add(new Mutation("an object", Json.object().put("k", random.nextInt()), typed && !type.equals("object")));
        out.add(new Mutation("a number", F.numberNode(random.nextLong()), typed && !type.equals("integer")));
        out.add(new Mutation("1e30", F.numberNode(new java.math.BigDecimal("1e30")), typed));
        out.add(new Mutation("2^63", F.numberNode(new java.math.BigInteger("9223372036854775808")), typed));
        out.add(new Mutation("1.5", F.numberNode(1.5), typed));
        out.add(new Mutation("true", F.booleanNode(true), typed && !type.equals("boolean")));
        ArrayNode deep = F.arrayNode();
        ArrayNode inner = deep;
        for (int i = 0; i < 300; i++) {
            inner = inner.addArray();
        }
        out.add(new Mutation("300-deep nesting", deep, typed && !type.equals("array")));
        ArrayNode mixed = F.arrayNode();
        for (int i = 0; i < 1 + random.nextInt(300); i++) {
            mixed.add(random.nextBoolean() ? F.numberNode(i) : F.nullNode());
        }
        out.add(new Mutation("a list of numbers and nulls", mixed, typed && !type.equals("array")));
        out.add(new Mutation("random text", F.textNode(randomText(random, 1 + random.nextInt(64))), typed && !type.equals("string") && !type.equals("list")));
        if (type.equals("integer")) {
            out.add(new Mutation("below the minimum", F.numberNode(p.path("minimum").asLong(0) - 1 - random.nextInt(1000)), true));
            out.add(new Mutation("above the maximum", F.numberNode(p.path("maximum").asLong(Integer.MAX_VALUE) + 1 + random.nextInt(1000)), true));
        }
        if (p.has("enum")) {
            out.add(new Mutation("not one of the choices", F.textNode("nope-" + random.nextInt(1000)), true));
        }
        return out;
    }

    private static String randomText(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        String alphabet = "abcxyz09 _-'\";\\/%$*()[]{}éü中😀\n\t";
        while (sb.length() < length) {
            int cp = alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length()))));
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }
}
