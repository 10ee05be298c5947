package cloud.dementia.server.mcp;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.server.tools.Json;

/**
 * A server-sent event stream of JSON-RPC messages, kept open by comment lines while nothing happens. A write that fails
 * (the client went away) closes it.
 */
final class McpStream implements AutoCloseable {

    /** A comment line at least this often, so that no proxy or client closes a quiet stream. */
    private static final long KEEP_ALIVE_NANOS = 15_000_000_000L;

    private final OutputStream out;
    private boolean open = true;
    private long lastWrite = System.nanoTime();

    private McpStream(OutputStream out) {
        this.out = out;
    }

    static McpStream open(ServerResponse res) {
        res.status(Status.OK_200).header(HeaderValues.CONTENT_TYPE_EVENT_STREAM).header(HeaderNames.CACHE_CONTROL, "no-cache")
                .header(HeaderNames.create("X-Accel-Buffering"), "no");
        McpStream stream = new McpStream(res.outputStream());
        stream.write(":\n\n");
        return stream;
    }

    boolean open() {
        return open;
    }

    void send(JsonNode message) {
        write("event: message\ndata: " + Json.compact(message) + "\n\n");
    }

    void keepAlive() {
        if (System.nanoTime() - lastWrite > KEEP_ALIVE_NANOS) {
            write(":\n\n");
        }
    }

    private void write(String text) {
        if (!open) {
            return;
        }
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            lastWrite = System.nanoTime();
        } catch (IOException | UncheckedIOException e) {
            open = false;
        }
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            try {
                out.close();
            } catch (IOException | UncheckedIOException e) {
                // gone already
            }
        }
    }
}
