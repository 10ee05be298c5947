package cloud.dementia.admin;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.logging.Logger;

import io.helidon.http.HeaderNames;
import io.helidon.http.SetCookie;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Who may use the console, and how they prove it: a login that opens a session (cookie), the session's CSRF token on
 * every POST, HTTP Basic for scripts on {@code /admin/api}, and the login throttle in front of every password check.
 * API keys are not accepted here: they open {@code /mcp}, never the console.
 */
final class Access {

    static final String SESSION_COOKIE = "dementia_console";
    static final String LOGIN_COOKIE = "dementia_login";
    static final String CSRF_FIELD = "_csrf";
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final Logger LOG = Logger.getLogger(Access.class.getName());

    /** The result of checking a user and password. */
    enum Verdict {
        ACCEPTED, WRONG, WAIT
    }

    /**
     * A password check.
     *
     * @param verdict    accepted, wrong, or refused unchecked because of earlier failures
     * @param retryAfter for {@code WAIT}, how long until the next attempt is checked
     */
    record Check(Verdict verdict, Duration retryAfter) {
    }

    private final Sessions sessions;
    private final LoginThrottle throttle;
    private final AdminAuthenticator authenticator;

    Access(Sessions sessions, LoginThrottle throttle, AdminAuthenticator authenticator) {
        this.sessions = sessions;
        this.throttle = throttle;
        this.authenticator = authenticator;
    }

    Sessions sessions() {
        return sessions;
    }

    /** Checks a password, unless this address or user has to wait after failed attempts. */
    Check check(String address, String user, String password) {
        Duration wait = throttle.waitFor(address, user);
        if (!wait.isZero()) {
            LOG.info(() -> "console login refused unchecked: user=" + user + " from=" + address + " wait_s=" + seconds(wait));
            return new Check(Verdict.WAIT, wait);
        }
        if (user != null && password != null && authenticator.accepts(user, password)) {
            throttle.succeeded(address, user);
            return new Check(Verdict.ACCEPTED, Duration.ZERO);
        }
        throttle.failed(address, user);
        LOG.warning(() -> "console login failed: user=" + user + " from=" + address);
        return new Check(Verdict.WRONG, Duration.ZERO);
    }

    /** @return the session whose cookie the request carries, if it is still valid */
    Optional<Session> session(ServerRequest req) {
        return req.headers().cookies().first(SESSION_COOKIE).asOptional().flatMap(sessions::find);
    }

    /** @return whether the request sent a session cookie at all (valid or not) */
    static boolean sentSessionCookie(ServerRequest req) {
        return req.headers().cookies().contains(SESSION_COOKIE);
    }

    /** @return user and password of an {@code Authorization: Basic} header */
    static Optional<String[]> basic(ServerRequest req) {
        return req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(h -> h.regionMatches(true, 0, "Basic ", 0, 6))
                .flatMap(h -> {
                    try {
                        String decoded = new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
                        int colon = decoded.indexOf(':');
                        return colon < 0 ? Optional.empty() : Optional.of(new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)});
                    } catch (IllegalArgumentException e) {
                        return Optional.empty();
                    }
                });
    }

    /** @return whether the request presents a bearer token (an API key), which the console refuses */
    static boolean bearer(ServerRequest req) {
        return req.headers().first(HeaderNames.AUTHORIZATION).map(h -> h.regionMatches(true, 0, "Bearer ", 0, 7)).orElse(false);
    }

    /** @return the client's address, IPv6 in its short form ({@code ::1}) */
    static String address(ServerRequest req) {
        if (req.remotePeer().address() instanceof java.net.InetSocketAddress inet && inet.getAddress() instanceof java.net.Inet6Address v6) {
            return shortIpv6(v6.getHostAddress());
        }
        return req.remotePeer().host();
    }

    /** {@code 0:0:0:0:0:0:0:1} becomes {@code ::1}: the longest run of zero groups collapses (RFC 5952). */
    static String shortIpv6(String full) {
        String address = full;
        String zone = "";
        int percent = full.indexOf('%');
        if (percent >= 0) {
            address = full.substring(0, percent);
            zone = full.substring(percent);
        }
        String[] groups = address.split(":");
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < groups.length; ) {
            if (groups[i].replaceFirst("^0+", "").isEmpty()) {
                int j = i;
                while (j < groups.length && groups[j].replaceFirst("^0+", "").isEmpty()) {
                    j++;
                }
                if (j - i > bestLength) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < groups.length; i++) {
            if (bestLength > 1 && i == bestStart) {
                out.append(i == 0 ? "::" : ":");
                i += bestLength - 1;
                continue;
            }
            String g = groups[i].replaceFirst("^0+(?=.)", "");
            out.append(g);
            if (i < groups.length - 1) {
                out.append(':');
            }
        }
        return out + zone;
    }

    /** Sets the session cookie: HttpOnly, SameSite=Strict, only for {@code /admin}, Secure when served over HTTPS. */
    static void startSession(ServerRequest req, ServerResponse res, String id) {
        res.headers().addCookie(SetCookie.builder(SESSION_COOKIE, id).path("/admin").httpOnly(true)
                .sameSite(SetCookie.SameSite.STRICT).secure(secure(req)).build());
    }

    static void endSession(ServerRequest req, ServerResponse res) {
        res.headers().addCookie(SetCookie.builder(SESSION_COOKIE, "").path("/admin").httpOnly(true)
                .sameSite(SetCookie.SameSite.STRICT).secure(secure(req)).maxAge(Duration.ZERO).build());
    }

    /** The login form's own CSRF token, double-submitted: in a cookie and in the form. */
    static String loginToken(ServerRequest req, ServerResponse res) {
        Optional<String> existing = req.headers().cookies().first(LOGIN_COOKIE).asOptional().filter(t -> t.length() == 43);
        if (existing.isPresent()) {
            return existing.get();
        }
        String token = Secrets.token();
        res.headers().addCookie(SetCookie.builder(LOGIN_COOKIE, token).path("/admin/login").httpOnly(true)
                .sameSite(SetCookie.SameSite.STRICT).secure(secure(req)).maxAge(Duration.ofHours(1)).build());
        return token;
    }

    static boolean loginTokenMatches(ServerRequest req, String presented) {
        return Secrets.same(req.headers().cookies().first(LOGIN_COOKIE).orElse(null), presented);
    }

    /** @return whether a POST carries the session's CSRF token (form field or header) */
    static boolean csrfMatches(Session session, ServerRequest req, Fields fields) {
        String presented = req.headers().first(io.helidon.http.HeaderNames.create(CSRF_HEADER))
                .orElseGet(() -> fields.text(CSRF_FIELD).orElse(null));
        return Secrets.same(session.csrf(), presented);
    }

    /** @return a path inside the console to go back to after login (as given, already decoded), else the pools page */
    static String safeNext(String next) {
        // only pages of the console itself: never another host (//evil, /\evil), a scheme, the API or a header split
        if (next != null && (next.equals("/admin") || next.startsWith("/admin/") || next.startsWith("/admin?"))
                && !next.startsWith("/admin/login") && !next.startsWith("/admin/api")
                && !next.contains("//") && !next.contains("\\") && next.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
            return next;
        }
        return "/admin";
    }

    private static boolean secure(ServerRequest req) {
        return req.isSecure() || req.headers().first(HeaderNames.X_FORWARDED_PROTO).map("https"::equalsIgnoreCase).orElse(false);
    }

    static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }
}
