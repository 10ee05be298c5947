package cloud.dementia.server.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;

/**
 * A request's headers must arrive within a time limit of its request line ({@code DEMENTIA_HEADER_TIMEOUT_MS}): a
 * client that sends them slowly, or stops halfway (slowloris), gets {@code 408 Request Timeout} and its connection is
 * closed. Helidon 4.5 has no such limit of its own (its socket read timeout is a client setting, and its connection
 * listeners are not told of bytes as they arrive), so this watches HTTP/1.1 connections through the two events they
 * do get: the request line read starts the clock, the end of the headers stops it; a housekeeping task checks the
 * clocks. A kept-alive connection idles without a deadline here; Helidon's idle timeout (5 minutes, from the last
 * request line) closes it, and with it a request line that never ends.
 */
public final class HeaderDeadline implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(HeaderDeadline.class.getName());

    private record Reading(ConnectionContext ctx, long startNanos) {
    }

    private final long limitNanos;
    private final long limitMillis;
    /** Connections whose request line and headers are arriving, by connection. */
    private final Map<String, Reading> reading = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> task;

    public HeaderDeadline(Duration limit, ScheduledExecutorService housekeeper) {
        this.limitNanos = limit.toNanos();
        this.limitMillis = limit.toMillis();
        long every = Math.max(50, Math.min(1000, limit.toMillis() / 4));
        this.task = housekeeper.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    /** What listens to what connections receive: a request line starts the clock, the end of the headers stops it. */
    public Http1ConnectionListener receiveListener() {
        return new Http1ConnectionListener() {
            @Override
            public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                reading.put(id(ctx), new Reading(ctx, System.nanoTime()));
            }

            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                reading.remove(id(ctx));
            }
        };
    }

    private static String id(ConnectionContext ctx) {
        return ctx.socketId() + '/' + ctx.childSocketId();
    }

    /** Answers 408 on connections past the limit and forgets closed ones. */
    void check() {
        try {
            long now = System.nanoTime();
            for (Map.Entry<String, Reading> e : reading.entrySet()) {
                Reading r = e.getValue();
                if (!connected(r.ctx())) {
                    reading.remove(e.getKey(), r);
                } else if (now - r.startNanos() > limitNanos && reading.remove(e.getKey(), r)) {
                    timeOut(r.ctx());
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "header deadline check failed: " + e.getMessage(), e);
        }
    }

    private void timeOut(ConnectionContext ctx) {
        String body = "{\"error\":\"the request line and headers did not arrive within " + limitMillis + " ms (DEMENTIA_HEADER_TIMEOUT_MS)\"}";
        byte[] entity = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + entity.length
                + "\r\n\r\n";
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
        }
        LOG.info(() -> "408: request headers from " + ctx.remotePeer().address() + " did not arrive within " + limitMillis + " ms");
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
