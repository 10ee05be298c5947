package cloud.dementia.server.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http1.Http1ConnectionListener;

/**
 * A request must arrive in time: its line and headers within {@code DEMENTIA_HEADER_TIMEOUT_MS} of the request line,
 * its body within {@code DEMENTIA_BODY_TIMEOUT_MS} of the headers. A client that sends either slowly, or stops halfway
 * (slowloris), gets {@code 408 Request Timeout} and its connection is closed.
 * <p>
 * Helidon 4.5 has no such limits of its own (its socket read timeout is a client setting, and its connection
 * listeners are not told of bytes as they arrive), so this watches HTTP/1.1 connections through what it can see: the
 * request line read starts the header clock and the end of the headers stops it; the body clock runs while
 * {@link #bodyFilter} reads the body into memory, before any route sees it (bodies are limited to
 * {@code DEMENTIA_MAX_BODY_BYTES}, and the routes read them whole anyway). A housekeeping task checks the clocks. A
 * kept-alive connection idles without a deadline here; Helidon's idle timeout (5 minutes, from the last request line)
 * closes it, and with it a request line that never ends. Once a body is read, the call may take as long as it needs.
 */
public final class RequestDeadline implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RequestDeadline.class.getName());

    /** A clock on one connection: what must arrive, by when. */
    private record Clock(ConnectionContext ctx, String what, String variable, long startNanos, long limitNanos) {
    }

    private final Duration headerLimit;
    private final Duration bodyLimit;
    /** Connections whose request line and headers, or body, are arriving, by connection. */
    private final Map<String, Clock> arriving = new ConcurrentHashMap<>();
    /**
     * Connections whose headers arrived and whose request the body filter has not seen yet, by connection: where the
     * filter finds the connection of its request.
     */
    private final Map<String, ConnectionContext> connections = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> task;

    public RequestDeadline(Duration headerLimit, Duration bodyLimit, ScheduledExecutorService housekeeper) {
        this.headerLimit = headerLimit;
        this.bodyLimit = bodyLimit;
        long every = Math.max(50, Math.min(1000, Math.min(headerLimit.toMillis(), bodyLimit.toMillis()) / 4));
        this.task = housekeeper.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    /** What listens to what connections receive: a request line starts the header clock, the end of the headers stops it. */
    public Http1ConnectionListener receiveListener() {
        return new Http1ConnectionListener() {
            @Override
            public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                arriving.put(id(ctx), new Clock(ctx, "request line and headers", "DEMENTIA_HEADER_TIMEOUT_MS", System.nanoTime(),
                        headerLimit.toNanos()));
            }

            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                arriving.remove(id(ctx));
                connections.put(id(ctx), ctx);
            }
        };
    }

    /**
     * Reads each request's body into memory under the body clock before the request goes on, except on the routes
     * that stream theirs ({@code streams}).
     */
    public Filter bodyFilter(Predicate<String> streams) {
        return (chain, req, res) -> {
            // taken out for good: the next request on the connection puts it back with its headers
            ConnectionContext ctx = connections.remove(req.serverSocketId() + '/' + req.socketId());
            if (ctx == null || !req.content().hasEntity() || streams.test(req.path().path())) {
                chain.proceed();
                return;
            }
            String id = id(ctx);
            Clock clock = new Clock(ctx, "request body", "DEMENTIA_BODY_TIMEOUT_MS", System.nanoTime(), bodyLimit.toNanos());
            arriving.put(id, clock);
            try {
                req.content().buffer();
            } catch (RuntimeException e) {
                if (!arriving.remove(id, clock)) {
                    // the clock ran out: 408 was sent and the connection closed, which is what ended the read
                    return;
                }
                if (e instanceof IllegalStateException) {
                    // past maxBufferedEntitySize: a chunked body longer than DEMENTIA_MAX_BODY_BYTES (the one reason here)
                    res.status(io.helidon.http.Status.REQUEST_ENTITY_TOO_LARGE_413)
                            .header(io.helidon.http.HeaderValues.CONNECTION_CLOSE)
                            .header(io.helidon.http.HeaderNames.CONTENT_TYPE, "application/json")
                            .send("{\"error\":\"the body is larger than the server takes (DEMENTIA_MAX_BODY_BYTES)\"}");
                    return;
                }
                throw e;
            }
            if (!arriving.remove(id, clock)) {
                return;
            }
            chain.proceed();
        };
    }

    private static String id(ConnectionContext ctx) {
        return ctx.socketId() + '/' + ctx.childSocketId();
    }

    /** Answers 408 on connections past their clock and forgets closed ones. */
    void check() {
        try {
            long now = System.nanoTime();
            for (Map.Entry<String, Clock> e : arriving.entrySet()) {
                Clock c = e.getValue();
                if (!connected(c.ctx())) {
                    arriving.remove(e.getKey(), c);
                } else if (now - c.startNanos() > c.limitNanos() && arriving.remove(e.getKey(), c)) {
                    timeOut(c);
                }
            }
            connections.values().removeIf(ctx -> !connected(ctx));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "request deadline check failed: " + e.getMessage(), e);
        }
    }

    private void timeOut(Clock c) {
        long limitMs = TimeUnit.NANOSECONDS.toMillis(c.limitNanos());
        String body = "{\"error\":\"the " + c.what() + " did not arrive within " + limitMs + " ms (" + c.variable() + ")\"}";
        byte[] entity = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + entity.length
                + "\r\n\r\n";
        ConnectionContext ctx = c.ctx();
        String from = peer(ctx);
        try {
            byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
            byte[] all = new byte[headBytes.length + entity.length];
            System.arraycopy(headBytes, 0, all, 0, headBytes.length);
            System.arraycopy(entity, 0, all, headBytes.length, entity.length);
            ctx.dataWriter().writeNow(BufferData.create(all));
        } catch (RuntimeException e) {
            // the client is gone already: closing is all there is to do
        } finally {
            try {
                ctx.serverSocket().close();
            } catch (RuntimeException e) {
                LOG.fine(() -> "closing a timed-out connection: " + e.getMessage());
            }
            connections.remove(id(ctx));
        }
        LOG.info(() -> "408: the " + c.what() + " from " + from + " did not arrive within " + limitMs + " ms");
    }

    /** @return the client's address and port, as the log names it */
    private static String peer(ConnectionContext ctx) {
        try {
            return ctx.remotePeer().host() + ":" + ctx.remotePeer().port();
        } catch (RuntimeException e) {
            return "an unknown address";
        }
    }

    private static boolean connected(ConnectionContext ctx) {
        try {
            return ctx.serverSocket().isConnected();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
