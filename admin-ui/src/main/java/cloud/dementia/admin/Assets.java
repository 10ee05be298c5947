package cloud.dementia.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The console's CSS, JavaScript and icon, read once from {@code dementia-admin/static/} in the jar and served with an
 * ETag. Nothing comes from elsewhere: no CDN, no web fonts (the pages use the system's fonts).
 */
final class Assets {

    private record Asset(byte[] bytes, String type, String etag) {
    }

    private static final Map<String, String> TYPES = Map.of(
            "console.css", "text/css; charset=utf-8",
            "console.js", "text/javascript; charset=utf-8",
            "favicon.svg", "image/svg+xml");

    private final Map<String, Asset> byName = new HashMap<>();

    Assets() {
        TYPES.forEach((name, type) -> {
            try (InputStream in = Assets.class.getClassLoader().getResourceAsStream("dementia-admin/static/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("console asset dementia-admin/static/" + name + " is missing from the jar");
                }
                byte[] bytes = in.readAllBytes();
                byName.put(name, new Asset(bytes, type, "\"" + Secrets.sha256(bytes).substring(0, 16) + "\""));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read console asset " + name, e);
            }
        });
    }

    /** @return the asset's ETag, to put in links so a new version is fetched at once */
    String version(String name) {
        Asset a = byName.get(name);
        return a == null ? "" : a.etag().replace("\"", "");
    }

    void serve(ServerRequest req, ServerResponse res) {
        Asset a = byName.get(req.path().pathParameters().get("name"));
        if (a == null) {
            res.status(Status.NOT_FOUND_404).header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8").send("no such console asset");
            return;
        }
        res.header(HeaderNames.ETAG, a.etag());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        if (req.headers().first(HeaderNames.IF_NONE_MATCH).map(a.etag()::equals).orElse(false)) {
            res.status(Status.NOT_MODIFIED_304).send();
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, a.type()).send(a.bytes());
    }
}
