package cloud.dementia.server.http;

import java.util.Locale;
import java.util.Map;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import cloud.dementia.server.tools.Json;

/**
 * Refuses a request whose path or query holds an encoded NUL ({@code %00}) with 400, before any route reads it. Path
 * segments and query values become names the database looks up (a project, a key, a pool), and PostgreSQL cannot take
 * a NUL in text: it would answer {@code invalid byte sequence for encoding "UTF8": 0x00}, which the service would
 * report as a database failure. No name may hold one, so this one check covers every route.
 */
public final class NulCheck implements Filter {

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String where = holdsNul(req.path().rawPath()) ? "path" : holdsNul(req.query().rawValue()) ? "query" : null;
        if (where == null) {
            chain.proceed();
            return;
        }
        res.status(Status.BAD_REQUEST_400)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.compact(Map.of("error", "the request " + where + " holds a NUL character (%00): no name may contain one")));
    }

    private static boolean holdsNul(String raw) {
        return raw != null && (raw.indexOf('\0') >= 0 || raw.toLowerCase(Locale.ROOT).contains("%00"));
    }
}
