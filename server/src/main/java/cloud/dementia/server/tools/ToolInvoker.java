package cloud.dementia.server.tools;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import cloud.dementia.db.search.Traffic;
import io.micrometer.core.instrument.Timer;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.pool.PoolSuspendedException;
import cloud.dementia.db.pool.PoolTimeoutException;
import cloud.dementia.db.store.StoreRuleException;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.observe.Observability;

/**
 * Runs tools by name for every transport: validates nothing itself (tools read their arguments through
 * {@link ToolCall}), times and counts each call ({@code dementia_tool_invocations_total{tool,status}},
 * {@code dementia_tool_latency_seconds{tool}}, a histogram), and classifies every failure into a {@link ToolOutcome.Failure}.
 */
public final class ToolInvoker {

    private static final Logger LOG = Logger.getLogger(ToolInvoker.class.getName());

    private final Map<String, ToolSpec> tools = new LinkedHashMap<>();
    private final MeterRegistry meters;
    private final Traffic traffic;
    /** The meters of each tool, looked up once: registering on every call costs a registry lookup with sorted tags. */
    private final Map<String, ToolMeters> byTool = new java.util.concurrent.ConcurrentHashMap<>();

    /** One tool's latency timer and its invocation counters by outcome. */
    private record ToolMeters(Timer latency, Map<String, Counter> byStatus) {
    }

    /**
     * Tools a read-only caller may call although they are not read-only: reading a context counts the read,
     * {@code switch_project} changes only the session's project, and {@code wake_up}, which opens the session for
     * others, only reads for a read-only caller (the assistant's loop starts with it).
     */
    public static final java.util.Set<String> READERS_MAY_CALL = java.util.Set.of("recall_context", "batch_recall_contexts", "switch_project",
            "wake_up");

    public ToolInvoker(Collection<ToolSpec> specs, MeterRegistry meters) {
        this(specs, meters, new Traffic());
    }

    /** @param traffic counts the calls being served (the background embedder gives way to them) */
    public ToolInvoker(Collection<ToolSpec> specs, MeterRegistry meters, Traffic traffic) {
        this.traffic = traffic;
        for (ToolSpec spec : specs) {
            if (tools.put(spec.name(), spec) != null) {
                throw new IllegalArgumentException("two tools named " + spec.name());
            }
        }
        this.meters = meters;
    }

    /** @return every tool, in registration order */
    public List<ToolSpec> tools() {
        return List.copyOf(tools.values());
    }

    /** @return the tools the caller may call, in registration order: what it is shown as the tool list */
    public List<ToolSpec> toolsFor(Caller caller) {
        return tools.values().stream().filter(spec -> allows(caller, spec)).toList();
    }

    /** @return whether the caller may call the tool: a read-only caller only the read-only tools and {@link #READERS_MAY_CALL} */
    public static boolean allows(Caller caller, ToolSpec spec) {
        return !caller.readOnly() || spec.readOnly() || READERS_MAY_CALL.contains(spec.name());
    }

    public Optional<ToolSpec> find(String name) {
        return Optional.ofNullable(tools.get(name));
    }

    /**
     * Invokes a known tool.
     *
     * @param spec      the tool
     * @param arguments its arguments (an object; empty when none were sent)
     * @param sessionId the MCP session, if any
     * @return the outcome, never an exception
     */
    public ToolOutcome invoke(ToolSpec spec, ObjectNode arguments, Optional<String> sessionId) {
        return invoke(spec, arguments, sessionId, Caller.TRUSTED);
    }

    /**
     * Invokes a known tool for a caller: a read-only key may call only the tools that change nothing (and
     * {@link #READERS_MAY_CALL}); the projects a call reaches are checked where they are resolved ({@link ProjectResolver}).
     *
     * @return the outcome, never an exception
     */
    public ToolOutcome invoke(ToolSpec spec, ObjectNode arguments, Optional<String> sessionId, Caller caller) {
        traffic.enter();
        try {
            return invokeCounted(spec, arguments, sessionId, caller);
        } finally {
            traffic.exit();
        }
    }

    private ToolOutcome invokeCounted(ToolSpec spec, ObjectNode arguments, Optional<String> sessionId, Caller caller) {
        long start = System.nanoTime();
        ToolOutcome outcome;
        try {
            if (!allows(caller, spec)) {
                throw new ToolForbiddenException(caller.credential() + " is read-only and " + spec.name()
                        + " changes data: use a read-write key (or a token with memory:write)");
            }
            StorableText.check(arguments);
            outcome = new ToolOutcome.Success(spec.handler().call(new ToolCall(spec.name(), arguments, sessionId, caller)));
        } catch (ToolForbiddenException e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.FORBIDDEN, e.getMessage(), 0);
        } catch (ToolArgumentException e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.BAD_ARGUMENT, e.getMessage(), 0);
        } catch (ToolError | StoreRuleException e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.TOOL_ERROR, e.getMessage(), 0);
        } catch (PoolTimeoutException e) {
            long seconds = Math.max(1, (e.waitedMillis() + 999) / 1000);
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, e.getMessage(), (int) seconds);
        } catch (PoolSuspendedException e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, e.getMessage(), 30);
        } catch (DataAccessException e) {
            outcome = databaseFailure(spec, e);
        } catch (PoolException e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, e.getMessage(), 5);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "tool " + spec.name() + " failed: " + e, e);
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.INTERNAL, "internal error in " + spec.name() + ": " + e.getMessage(), 0);
        }
        String status = outcome instanceof ToolOutcome.Failure f ? f.kind().meterStatus() : "ok";
        ToolMeters m = byTool.computeIfAbsent(spec.name(), name -> new ToolMeters(Observability.latencyTimer("dementia.tool.latency")
                .description("Tool latency").tag("tool", name).register(meters), new java.util.concurrent.ConcurrentHashMap<>()));
        m.byStatus().computeIfAbsent(status, s -> Counter.builder("dementia.tool.invocations").description("Tool invocations by outcome")
                .tag("tool", spec.name()).tag("status", s).register(meters)).increment();
        m.latency().record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        return outcome;
    }

    /**
     * A database failure is the caller's to retry when the connection was lost (503, nothing to fix), when PostgreSQL
     * gave up the transaction for another (serialization failure, deadlock), or when the statement timeout stopped it
     * (the database is too busy to finish in time); anything else is a bug (500). Errors the caller's own SQL causes
     * ({@code query_database}) are tool errors, decided where the SQL is run.
     */
    private static ToolOutcome.Failure databaseFailure(ToolSpec spec, DataAccessException e) {
        String code = " (SQLSTATE " + e.sqlState() + ")";
        if (e.connectionLost()) {
            LOG.info(() -> "tool " + spec.name() + " lost its connection: schema=" + e.schema() + " sqlstate=" + e.sqlState());
            return new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, "the call lost its database connection" + code
                    + ": a transaction was rolled back, a single statement may or may not have run; retry", 1);
        }
        if (e.transactionConflict()) {
            return new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, "the database rolled the call back to let a concurrent one finish"
                    + code + "; retry", 1);
        }
        if (e.cancelled()) {
            return new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, "the database did not finish the call within the statement timeout"
                    + code + "; retry later", 5);
        }
        LOG.log(Level.WARNING, "tool " + spec.name() + " failed in the database: schema=" + e.schema() + " sqlstate=" + e.sqlState()
                + " " + e.getMessage());
        return new ToolOutcome.Failure(ToolOutcome.Kind.INTERNAL, "database error in schema `" + e.schema() + "`: " + e.getMessage(), 0);
    }
}
