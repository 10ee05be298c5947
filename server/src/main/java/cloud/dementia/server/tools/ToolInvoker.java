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
import cloud.dementia.db.store.Failure;
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
        } catch (ToolError e) {
            outcome = new ToolOutcome.Failure(ToolOutcome.Kind.TOOL_ERROR, e.getMessage(), 0);
        } catch (RuntimeException e) {
            outcome = failure(spec, e);
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
     * The one place a failure of the work behind a tool becomes its outcome, as {@link Failure} classifies it: what the
     * caller may retry is {@code UNAVAILABLE}; a refusal of the store (a bad value, a name taken, an unknown pool) is a
     * tool error the caller can act on; anything else is a bug, logged here once. Errors the caller's own SQL causes
     * ({@code query_database}) are tool errors, decided where the SQL is run.
     */
    private static ToolOutcome.Failure failure(ToolSpec spec, RuntimeException e) {
        Failure failure = Failure.of(e);
        return switch (failure.kind()) {
            case UNAVAILABLE -> {
                if (e instanceof DataAccessException d && d.connectionLost()) {
                    LOG.info(() -> "tool " + spec.name() + " lost its connection: schema=" + d.schema() + " sqlstate=" + d.sqlState());
                }
                yield new ToolOutcome.Failure(ToolOutcome.Kind.UNAVAILABLE, failure.message(), failure.retryAfterSeconds());
            }
            case BAD_INPUT, CONFLICT, NOT_FOUND -> new ToolOutcome.Failure(ToolOutcome.Kind.TOOL_ERROR, failure.message(), 0);
            case INTERNAL -> {
                LOG.log(Level.WARNING, "tool " + spec.name() + " failed: " + failure.message(), e);
                yield new ToolOutcome.Failure(ToolOutcome.Kind.INTERNAL, e instanceof DataAccessException ? failure.message()
                        : "internal error in " + spec.name() + ": " + e.getMessage(), 0);
            }
        };
    }
}
