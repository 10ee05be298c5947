package cloud.dementia.server.console;

import java.net.CookieManager;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser without a browser: an HTTP client with a cookie jar that uses the console the way its pages do (forms,
 * their CSRF tokens, redirects not followed so they can be checked). It may connect from another loopback address.
 */
final class ConsoleSession {

    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

    final CookieManager cookies = new CookieManager();
    private final ConsoleServer server;
    private final HttpClient http;

    ConsoleSession(ConsoleServer server) {
        this(server, null);
    }

    /** @param from local address to connect from (a 127.x.y.z address, to be another client), or {@code null} */
    ConsoleSession(ConsoleServer server, String from) {
        this.server = server;
        HttpClient.Builder b = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).cookieHandler(cookies);
        if (from != null) {
            try {
                b.localAddress(InetAddress.getByName(from));
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(from, e);
            }
        }
        this.http = b.build();
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(server.url(path))).GET().build());
    }

    HttpResponse<String> post(String path, Map<String, String> form) {
        return send(HttpRequest.newBuilder(URI.create(server.url(path)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(encode(form))).build());
    }

    HttpResponse<String> postWithHeader(String path, String json, String header, String value) {
        return send(HttpRequest.newBuilder(URI.create(server.url(path))).header("Content-Type", "application/json").header(header, value)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** Opens the login page and signs in with its form; returns the answer to the POST. */
    HttpResponse<String> login(String user, String password) {
        String token = csrf(get("/admin/login").body());
        Map<String, String> form = new LinkedHashMap<>();
        form.put("_csrf", token);
        form.put("user", user);
        form.put("password", password);
        form.put("next", "/admin");
        return post("/admin/login", form);
    }

    ConsoleSession loggedIn() {
        HttpResponse<String> r = login(ConsoleServer.USER, ConsoleServer.PASSWORD);
        if (r.statusCode() != 303) {
            throw new AssertionError("login answered " + r.statusCode() + ": " + r.body());
        }
        return this;
    }

    /** @return the CSRF token of a page's forms */
    static String csrf(String html) {
        Matcher m = CSRF.matcher(html);
        if (!m.find()) {
            throw new AssertionError("no CSRF token in the page:\n" + html);
        }
        return m.group(1);
    }

    /** @return this session's token, read from a console page */
    String csrf() {
        return csrf(get("/admin").body());
    }

    String sessionCookie() {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("dementia_console"))
                .map(java.net.HttpCookie::getValue).findFirst().orElse(null);
    }

    HttpResponse<String> send(HttpRequest request) {
        return server.sendWith(http, request);
    }

    static String encode(Map<String, String> form) {
        return form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }
}
