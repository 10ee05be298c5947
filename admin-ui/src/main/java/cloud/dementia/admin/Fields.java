package cloud.dementia.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/**
 * The fields of a POST: an HTML form ({@code application/x-www-form-urlencoded}) or a JSON object, read the same way
 * so that console forms and API calls validate their values in one place.
 */
final class Fields {

    /** Longest body read; a form of the console is a few hundred bytes. */
    static final int MAX_BODY = 16 * 1024;

    private final Map<String, String> values;

    private Fields(Map<String, String> values) {
        this.values = values;
    }

    static Fields empty() {
        return new Fields(Map.of());
    }

    /** @throws IllegalArgumentException when the body is too large or not a JSON object */
    static Fields read(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return empty();
        }
        String body = body(req);
        String type = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("").toLowerCase(java.util.Locale.ROOT);
        if (type.startsWith("application/json") || (type.isEmpty() && body.stripLeading().startsWith("{"))) {
            return json(body);
        }
        return form(body);
    }

    static Fields form(String body) {
        Map<String, String> m = new HashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            m.putIfAbsent(name, value);
        }
        return new Fields(m);
    }

    static Fields json(String body) {
        if (body.isBlank()) {
            return empty();
        }
        JsonNode node = Json.read(body);
        if (!node.isObject()) {
            throw new IllegalArgumentException("the request body must be a JSON object, like {\"max\": 8}");
        }
        Map<String, String> m = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            m.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
        }
        return new Fields(m);
    }

    Optional<String> text(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /** @throws IllegalArgumentException naming the field when it is missing or not a whole number */
    int wholeNumber(String name) {
        return optionalWholeNumber(name).orElseThrow(() -> new IllegalArgumentException(name + " is required: a whole number"));
    }

    /** @throws IllegalArgumentException naming the field when it is given but is not a whole number */
    Optional<Integer> optionalWholeNumber(String name) {
        String v = values.get(name);
        if (v == null || v.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            String shown = v.length() > 20 ? v.substring(0, 20) + "…" : v;
            throw new IllegalArgumentException(name + " must be a whole number, got `" + shown + "`");
        }
    }

    private static String body(ServerRequest req) {
        try (InputStream in = req.content().inputStream()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new IllegalArgumentException("the request body is larger than " + MAX_BODY + " bytes");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the request body", e);
        }
    }
}
