package cloud.dementia.server;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolError;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/**
 * A small tool catalog for transport tests, one tool per outcome: {@code echo} (a JSON result, with the
 * session it saw), {@code fail} (a tool error), {@code needs_argument} (a bad argument), {@code db_probe} (a real
 * transaction on a schema), {@code db_sleep} (a statement that runs for a while), {@code db_lost} (its connection dies mid-transaction) and {@code hold} (keeps a
 * connection of a schema busy until {@link #release()}).
 */
public final class TestTools {

    public static final String HELD_SCHEMA_DEFAULT = "held";

    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    public List<ToolSpec> catalog(cloud.dementia.db.store.Memory memory) {
        PoolRegistry registry = memory.registry();
        return List.of(
                new ToolSpec("echo", "Echo", "Returns the text it was given and the MCP session it saw.",
                        schema("text", "string", true), true, false, call -> {
                            String text = call.optionalString("text").orElse("");
                            ObjectNode echoed = Json.object();
                            echoed.put("text", text);
                            call.sessionId().ifPresentOrElse(id -> echoed.put("session", id), () -> echoed.putNull("session"));
                            return ToolOutput.json(echoed);
                        }),
                new ToolSpec("fail", "Fail", "Always fails with a tool error.", schema(null, null, false), false, false, call -> {
                    throw new ToolError("fail always fails: nothing to do here");
                }),
                new ToolSpec("needs_argument", "Needs an argument", "Requires the argument `missing`.",
                        schema("missing", "string", true), false, true, call -> ToolOutput.text("got " + call.string("missing"))),
                new ToolSpec("db_probe", "Database probe", "Runs one transaction on a schema.", schema("schema", "string", false),
                        true, false, call -> {
                            String schema = call.optionalString("schema").orElse("probe");
                            int pid = registry.inStatement(schema,
                                    tx -> tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow());
                            return ToolOutput.text("schema " + schema + ": backend " + pid);
                        }),
                new ToolSpec("db_sleep", "Database sleep", "Runs `SELECT pg_sleep(seconds)` on the schema `sleepy`: a statement in flight.",
                        schema("seconds", "integer", true), true, false, call -> {
                            int seconds = call.integer("seconds", 1, 0, 60);
                            registry.inStatement("sleepy", tx -> tx.queryOne("SELECT pg_sleep(?)::text", r -> r.string(1), seconds));
                            return ToolOutput.text("slept " + seconds + " s");
                        }),
                new ToolSpec("db_lost", "Database connection lost", "Loses its connection mid-transaction: the backend is terminated "
                        + "after the first statement.", schema(null, null, false), false, false, call -> {
                            registry.inTransaction("lost", tx -> {
                                tx.queryOne("SELECT 1", r -> r.integer(1));
                                return tx.queryOne("SELECT pg_terminate_backend(pg_backend_pid())", r -> r.bool(1));
                            });
                            return ToolOutput.text("not reached");
                        }),
                new ToolSpec("hold", "Hold", "Holds a connection of a schema until the test releases it.", schema("schema", "string", false),
                        false, false, call -> {
                            String schema = call.optionalString("schema").orElse(HELD_SCHEMA_DEFAULT);
                            registry.inTransaction(schema, tx -> {
                                holding.countDown();
                                awaitRelease();
                                return null;
                            });
                            return ToolOutput.text("held " + schema);
                        }));
    }

    /** Blocks until {@code hold} has its connection. */
    public boolean awaitHolding(long seconds) throws InterruptedException {
        return holding.await(seconds, TimeUnit.SECONDS);
    }

    private void awaitRelease() {
        try {
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new ToolError("hold was never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ToolError("hold was interrupted");
        }
    }

    public void release() {
        release.countDown();
    }

    private static ObjectNode schema(String property, String type, boolean required) {
        ObjectNode schema = Json.object();
        schema.put("type", "object");
        ObjectNode properties = schema.putObject("properties");
        if (property != null) {
            properties.putObject(property).put("type", type);
            if (required) {
                schema.putArray("required").add(property);
            }
        }
        return schema;
    }
}
