package cloud.dementia.admin;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.pool.UnknownPoolException;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.Failure;

/**
 * The console pages under {@code /admin}: login, pools, one schema pool, the physical pool, idle cleanup, audit. Every
 * page but the login needs a session; every POST needs the session's CSRF token. Actions redirect back with a one-line
 * notice (POST, redirect, GET), so a reload never repeats one. A page asked for with {@code ?live} answers with only
 * its {@code data-live} parts, rendered from the same template, which its script swaps in to stay current.
 */
final class Pages implements HttpService {

    private static final Logger LOG = Logger.getLogger(Pages.class.getName());
    private static final Format FMT = new Format();
    /** The physical pool's page: a path of its own, beside the schema pools' {@code /admin/pools/{schema}}. */
    static final String PHYSICAL = "/admin/physical";

    private final Reads reads;
    private final Operations operations;
    private final Access access;
    private final Templates templates;
    private final Assets assets;

    Pages(Reads reads, Operations operations, Access access, Templates templates, Assets assets) {
        this.reads = reads;
        this.operations = operations;
        this.access = access;
        this.templates = templates;
        this.assets = assets;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/login", this::loginForm)
                .post("/login", this::login)
                .any(this::requireSession)
                .get("/", page(this::pools))
                .get("/pools", page(this::pools))
                .get("/pools/{schema}", page(this::pool))
                .post("/pools/{schema}/{action}", action(req -> FMT.poolUrl(req.path().pathParameters().get("schema")), this::poolAction))
                .get("/physical", page(this::physical))
                .post("/physical/{action}", action(req -> PHYSICAL, this::physicalAction))
                .get("/cleanup", page(this::cleanup))
                .post("/cleanup/run", action(req -> "/admin/cleanup", this::cleanupRun))
                .post("/cleanup/settings", action(req -> "/admin/cleanup", this::cleanupSettings))
                .get("/audit", page(this::audit))
                .get("/keys", page(this::keys))
                .post("/keys", action(req -> "/admin/keys", this::createKey))
                .post("/keys/{name}/revoke", action(req -> "/admin/keys", this::revokeKey))
                .post("/logout", page(this::logout))
                .any(page(this::notFound));
    }

    // ---------------------------------------------------------------- failures

    /** A page: whatever fails in it is answered by {@link #fail}. */
    private Handler page(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (HttpException | RequestException | java.io.UncheckedIOException e) {
                // the web server's own answers (a body too large, a bad request line) and a broken connection are its to handle
                throw e;
            } catch (RuntimeException e) {
                fail(req, res, e, null);
            }
        };
    }

    /**
     * A form's action: a value the operator can correct goes back to the form with why (POST, redirect, GET); any other
     * failure is answered by {@link #fail}.
     */
    private Handler action(java.util.function.Function<ServerRequest, String> form, Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (HttpException | RequestException | java.io.UncheckedIOException e) {
                throw e;
            } catch (RuntimeException e) {
                fail(req, res, e, form.apply(req));
            }
        };
    }

    /**
     * The one place a failure becomes a console answer: refused input back to its form (or a 400 page), an unknown pool
     * 404, no connection in time or a suspended schema 503 with {@code Retry-After}, anything else 500, logged here once.
     */
    private void fail(ServerRequest req, ServerResponse res, RuntimeException e, String form) {
        Failure failure = Failure.of(e);
        Session s = session(req);
        Failure.Kind kind = failure.kind();
        if (form != null && (kind == Failure.Kind.BAD_INPUT || kind == Failure.Kind.CONFLICT)) {
            s.notice(Notice.refused("Refused: " + failure.message()));
            redirect(res, form);
            return;
        }
        String title = switch (kind) {
            case UNAVAILABLE -> "Unavailable: try again shortly";
            case BAD_INPUT, CONFLICT -> "Refused";
            case NOT_FOUND -> "Not found";
            case INTERNAL -> "Internal error";
        };
        if (kind == Failure.Kind.UNAVAILABLE) {
            res.header(HeaderNames.RETRY_AFTER, Integer.toString(failure.retryAfterSeconds()));
        }
        String message = failure.message();
        if (kind == Failure.Kind.INTERNAL) {
            LOG.log(Level.WARNING, "console " + req.prologue().method().text() + " " + req.path().path() + ": " + failure.message(), e);
            message = "The console failed on this request; the server log has the details.";
        } else if (kind == Failure.Kind.UNAVAILABLE) {
            message = message + "; try again in " + failure.retryAfterSeconds() + " s.";
        }
        error(req, res, s, Status.create(kind.httpStatus()), title, message);
    }

    // ---------------------------------------------------------------- login

    private void loginForm(ServerRequest req, ServerResponse res) {
        if (access.session(req).isPresent()) {
            redirect(res, Access.safeNext(req.query().first("next").orElse(null)));
            return;
        }
        String message = req.query().first("bye").isPresent() ? "Signed out." : null;
        renderLogin(req, res, Status.OK_200, req.query().first("next").orElse(""), "", message, true);
    }

    private void login(ServerRequest req, ServerResponse res) {
        Fields f;
        try {
            f = Fields.read(req);
        } catch (IllegalArgumentException e) {
            renderLogin(req, res, Status.BAD_REQUEST_400, "", "", e.getMessage(), false);
            return;
        }
        String user = f.text("user").orElse("").trim();
        String next = f.text("next").orElse("");
        if (!Access.loginTokenMatches(req, f.text(Access.CSRF_FIELD).orElse(null))) {
            renderLogin(req, res, Status.FORBIDDEN_403, next, user,
                    "This login form has expired or did not come from this console (CSRF token missing or wrong): please sign in again.", false);
            return;
        }
        String address = Access.address(req);
        Access.Check check = access.check(address, user, f.text("password").orElse(""));
        switch (check.verdict()) {
            case WAIT -> {
                res.header(HeaderNames.RETRY_AFTER, Long.toString(Access.seconds(check.retryAfter())));
                renderLogin(req, res, Status.TOO_MANY_REQUESTS_429, next, user, "Too many failed logins from this address or for this user: "
                        + "try again in " + Access.seconds(check.retryAfter()) + " s. Each further failure doubles the wait.", false);
            }
            case WRONG -> renderLogin(req, res, Status.UNAUTHORIZED_401, next, user, "Wrong user or password.", false);
            case ACCEPTED -> {
                Sessions.Created created = access.sessions().create(user);
                Access.startSession(req, res, created.id());
                operations.session(new Actor(user, "console", address), "login");
                redirect(res, Access.safeNext(next));
            }
        }
    }

    private void renderLogin(ServerRequest req, ServerResponse res, Status status, String next, String user, String message, boolean ok) {
        Map<String, Object> m = base("login");
        m.put("loginToken", Access.loginToken(req, res));
        m.put("next", next);
        m.put("userName", user);
        m.put("message", message);
        m.put("messageOk", ok);
        html(res, status, templates.render("login", m));
    }

    private void logout(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        access.sessions().end(s);
        Access.endSession(req, res);
        operations.session(new Actor(s.user(), "console", Access.address(req)), "logout");
        redirect(res, "/admin/login?bye");
    }

    /** Every route after this one needs a session; a POST also needs the session's CSRF token. */
    private void requireSession(ServerRequest req, ServerResponse res) {
        Optional<Session> session = access.session(req);
        if (session.isEmpty()) {
            String query = req.query().rawValue();
            String here = req.path().absolute().rawPath() + (query == null || query.isEmpty() ? "" : "?" + query);
            String next = req.prologue().method() == Method.GET ? here : "/admin";
            redirect(res, "/admin/login?next=" + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8));
            return;
        }
        Session s = session.get();
        req.context().register(s);
        if (req.prologue().method() == Method.POST) {
            Fields fields;
            try {
                fields = Fields.read(req);
            } catch (IllegalArgumentException e) {
                error(req, res, s, Status.BAD_REQUEST_400, "Bad request", e.getMessage());
                return;
            }
            if (!Access.csrfMatches(s, req, fields)) {
                error(req, res, s, Status.FORBIDDEN_403, "Refused: no valid CSRF token",
                        "This form was sent without the console's CSRF token (or with an old one), so it was not applied. "
                                + "Reload the page and use its form again.");
                return;
            }
            req.context().register(fields);
        }
        res.next();
    }

    // ---------------------------------------------------------------- pages

    private void pools(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Map<String, Object> m = page("pools", s, req);
        PoolOrder order = PoolOrder.of(req.query().first("sort").orElse(null), req.query().first("dir").orElse(null));
        m.put("order", order);
        m.put("pools", order.sort(((Reads.Overview) m.get("overview")).pools()));
        render(req, res, Status.OK_200, "pools", m);
    }

    private void pool(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        String schema = req.path().pathParameters().get("schema");
        Optional<Reads.PoolDetail> detail = reads.pool(schema);
        if (detail.isEmpty() && schema.equals(reads.physicalName())) {
            // no schema is called that (dementia_control, proj_*): whoever typed it wants the physical pool
            redirect(res, PHYSICAL);
            return;
        }
        if (detail.isEmpty()) {
            error(req, res, s, Status.NOT_FOUND_404, "No pool `" + schema + "`", new UnknownPoolException(schema).getMessage() + ".");
            return;
        }
        Map<String, Object> m = page("pool", s, req);
        m.put("detail", detail.get());
        m.put("p", detail.get().pool());
        m.put("schema", schema);
        render(req, res, Status.OK_200, "pool", m);
    }

    private void poolAction(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Fields f = fields(req);
        String schema = req.path().pathParameters().get("schema");
        String action = req.path().pathParameters().get("action");
        Actor who = new Actor(s.user(), "console", Access.address(req));
        Operations.PoolChange change = operations.apply(who, schema, action, f).orElse(null);
        if (change == null) {
            notFound(req, res);
            return;
        }
        s.notice(Notice.done(change.done()));
        redirect(res, action.equals("retire") ? "/admin" : FMT.poolUrl(schema));
    }

    private void physical(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Map<String, Object> m = page("physical", s, req);
        Reads.PhysicalDetail detail = reads.physical();
        m.put("detail", detail);
        m.put("ph", detail.physical());
        render(req, res, Status.OK_200, "physical", m);
    }

    private void physicalAction(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        String action = req.path().pathParameters().get("action");
        Operations.PhysicalChange change = operations.applyToPhysical(new Actor(s.user(), "console", Access.address(req)), action)
                .orElse(null);
        if (change == null) {
            notFound(req, res);
            return;
        }
        s.notice(Notice.done(change.done()));
        redirect(res, PHYSICAL);
    }

    private void cleanup(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Map<String, Object> m = page("cleanup", s, req);
        m.put("c", reads.cleanup());
        render(req, res, Status.OK_200, "cleanup", m);
    }

    private void cleanupRun(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        s.notice(Notice.done(operations.cleanupNow(new Actor(s.user(), "console", Access.address(req))).done()));
        redirect(res, "/admin/cleanup");
    }

    private void cleanupSettings(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Fields f = fields(req);
        Duration interval = Duration.ofSeconds(f.wholeNumber("intervalSeconds"));
        Duration idleMax = Duration.ofSeconds(f.wholeNumber("idleMaxSeconds"));
        s.notice(Notice.done(operations.cleanupSettings(new Actor(s.user(), "console", Access.address(req)), interval, idleMax).done()));
        redirect(res, "/admin/cleanup");
    }

    private void audit(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        long before;
        try {
            before = req.query().first("before").map(Long::parseLong).orElse(Long.MAX_VALUE);
        } catch (NumberFormatException e) {
            before = Long.MAX_VALUE;
        }
        int limit = 100;
        Map<String, Object> m = page("audit", s, req);
        List<Reads.AuditView> entries = reads.audit(limit, before);
        m.put("entries", entries);
        m.put("older", entries.size() == limit ? entries.get(entries.size() - 1).id() : null);
        m.put("paged", before != Long.MAX_VALUE);
        m.put("maxRead", AdminAudit.MAX_READ);
        render(req, res, Status.OK_200, "audit", m);
    }

    private void keys(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Map<String, Object> m = page("keys", s, req);
        m.put("keys", operations.keys().stream().map(Operations::keyValues).toList());
        m.put("revealed", live(req) ? null : s.takeRevealed());
        render(req, res, Status.OK_200, "keys", m);
    }

    private void createKey(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        Operations.KeyChange change = operations.createKey(new Actor(s.user(), "console", Access.address(req)), fields(req));
        s.reveal(change.secret());
        s.notice(Notice.done(change.done()));
        redirect(res, "/admin/keys");
    }

    private void revokeKey(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        s.notice(Notice.done(operations.revokeKey(new Actor(s.user(), "console", Access.address(req)),
                req.path().pathParameters().get("name")).done()));
        redirect(res, "/admin/keys");
    }

    private void notFound(ServerRequest req, ServerResponse res) {
        Session s = session(req);
        error(req, res, s, Status.NOT_FOUND_404, "Not found", "The console has no page at " + req.path().absolute().path() + ".");
    }

    // ---------------------------------------------------------------- helpers

    private Map<String, Object> base(String page) {
        Map<String, Object> m = new HashMap<>();
        m.put("page", page);
        m.put("fmt", FMT);
        m.put("cssVersion", assets.version("console.css"));
        m.put("jsVersion", assets.version("console.js"));
        return m;
    }

    private Map<String, Object> page(String page, Session s, ServerRequest req) {
        Map<String, Object> m = base(page);
        m.put("user", s.user());
        m.put("csrf", s.csrf());
        // a refresh must not take the notice an action left for the page the browser is about to load
        m.put("notice", live(req) ? null : s.takeNotice());
        m.put("overview", reads.overview());
        m.put("now", java.time.Instant.now());
        return m;
    }

    private void error(ServerRequest req, ServerResponse res, Session s, Status status, String title, String message) {
        Map<String, Object> m = page("error", s, req);
        m.put("title", title);
        m.put("message", message);
        m.put("status", status.code());
        render(req, res, status, "error", m);
    }

    /** @return whether the page's script asks for its live parts only */
    private static boolean live(ServerRequest req) {
        return req.query().contains("live");
    }

    private void render(ServerRequest req, ServerResponse res, Status status, String template, Map<String, Object> model) {
        html(res, status, live(req) ? templates.renderLive(template, model) : templates.render(template, model));
    }

    private static Session session(ServerRequest req) {
        return req.context().get(Session.class).orElseThrow(() -> new IllegalStateException("no session: requireSession did not run"));
    }

    private static Fields fields(ServerRequest req) {
        return req.context().get(Fields.class).orElse(Fields.empty());
    }

    private static void html(ServerResponse res, Status status, String body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "text/html; charset=utf-8").send(body);
    }

    static void redirect(ServerResponse res, String location) {
        res.status(Status.SEE_OTHER_303).header(HeaderNames.LOCATION, location).send();
    }
}
