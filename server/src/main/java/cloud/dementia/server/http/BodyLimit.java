package cloud.dementia.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;
import java.util.function.Predicate;

import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import cloud.dementia.server.tools.Json;

/**
 * The request body limit of each route. An import ({@code POST /admin/api/projects/{name}/import}) streams its body
 * into the database and may send up to {@code DEMENTIA_IMPORT_MAX_BYTES}; every other route reads its body whole and
 * takes up to {@code DEMENTIA_MAX_BODY_BYTES}.
 * <p>
 * Helidon's own limit ({@code maxPayloadSize}) is one per server, so it is set to the larger of the two
 * ({@link #serverLimit}); this filter, right after the request timer, holds each route to its own. A {@code Content-Length} over
 * it is answered 413 at once, before a byte of the body is read, and the connection is closed rather than drained; a
 * chunked body is cut with 413 as it streams past it. The MCP endpoint reads its body with {@code buffer()}, which
 * bypasses stream filters: Helidon bounds it with {@code maxBufferedEntitySize}, kept at {@code DEMENTIA_MAX_BODY_BYTES}.
 */
public final class BodyLimit implements Filter {

    private final long maxBody;
    private final long importMax;
    private final Predicate<String> isImport;

    /**
     * @param maxBody   the limit of every route but the import ({@code DEMENTIA_MAX_BODY_BYTES})
     * @param importMax the limit of the import ({@code DEMENTIA_IMPORT_MAX_BYTES})
     * @param isImport  whether a path is the import's
     */
    public BodyLimit(long maxBody, long importMax, Predicate<String> isImport) {
        this.maxBody = maxBody;
        this.importMax = importMax;
        this.isImport = isImport;
    }

    /** @return the limit to give the HTTP server itself: no route takes more */
    public static long serverLimit(long maxBody, long importMax) {
        return Math.max(maxBody, importMax);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        boolean importing = req.prologue().method() == Method.POST && isImport.test(req.path().path());
        long limit = importing ? importMax : maxBody;
        String why = "the request body is larger than " + limit + " bytes, the limit of "
                + (importing ? "an import (DEMENTIA_IMPORT_MAX_BYTES)" : "this route (DEMENTIA_MAX_BODY_BYTES)");
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > limit) {
            res.status(Status.REQUEST_ENTITY_TOO_LARGE_413)
                    .header(HeaderValues.CONNECTION_CLOSE)
                    .header(HeaderValues.CONTENT_TYPE_JSON)
                    .send(Json.compact(Json.object().put("error", why)));
            return;
        }
        if (limit < serverLimit(maxBody, importMax)) {
            req.streamFilter(in -> new Limited(in, limit, why));
        }
        chain.proceed();
    }

    /** A body stream that fails with 413 as soon as more than {@code limit} bytes have come through it. */
    private static final class Limited extends InputStream {
        private final InputStream in;
        private final long limit;
        private final String why;
        private long read;

        Limited(InputStream in, long limit, String why) {
            this.in = in;
            this.limit = limit;
            this.why = why;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }

        private void count(long bytes) {
            read += bytes;
            if (read > limit) {
                // not kept alive: the rest of the body is never read
                throw new HttpException(why, Status.REQUEST_ENTITY_TOO_LARGE_413, false);
            }
        }
    }
}
