package cloud.dementia.admin;

import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.pool.UnknownPoolException;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.Failure;

/**
 * {@code /admin/api}: the console's reads and actions as JSON, for scripts (HTTP Basic as the admin user) and for the
 * console's own live refresh (its session cookie; a POST then also needs the {@code X-CSRF-Token} header). Errors are
 * {@code {"error": "..."}} with a status that says whose fault it is.
 */
final class Api implements HttpService {

    private static final Logger LOG = Logger.getLogger(Api.class.getName());
    private static final String REALM = "Basic realm=\"dementia-admin\", charset=\"UTF-8\"";

    private final Reads reads;
    private final Operations operations;
    private final Access access;

    Api(Reads reads, Operations operations, Access access) {
        this.reads = reads;
        this.operations = operations;
        this.access = access;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(this::authenticate)
                .get("/pools", (req, res) -> safely(res, () -> send(res, Status.OK_200, reads.overview())))
                .get("/pools/{schema}", this::pool)
                .get("/physical", (req, res) -> safely(res, () -> send(res, Status.OK_200, reads.physical())))
                .get("/budget", (req, res) -> safely(res, () -> send(res, Status.OK_200, reads.overview().budget())))
                .get("/leaks", (req, res) -> safely(res, () -> send(res, Status.OK_200, Map.of("leaks", reads.leaks()))))
                .get("/cleanup", (req, res) -> safely(res, () -> send(res, Status.OK_200, reads.cleanup())))
                .get("/audit", this::audit)
                .get("/history", this::history)
                .post("/pools/{schema}/{action}", this::poolAction)
                .post("/physical/{action}", this::physicalAction)
                .post("/cleanup/run", this::cleanupRun)
                .post("/cleanup/settings", this::cleanupSettings)
                .get("/keys", (req, res) -> safely(res, () -> send(res, Status.OK_200,
                        Map.of("keys", operations.keys().stream().map(Operations::keyValues).toList()))))
                .post("/keys", this::createKey)
                .post("/keys/{name}/revoke", this::revokeKey)
                .get("/cluster", (req, res) -> safely(res, () -> send(res, Status.OK_200, operations.clusterView())))
                .post("/projects/{name}/move", this::moveProject)
                .get("/projects/{name}/export", this::exportProject)
                .post("/projects/{name}/import", this::importProject)
                .any(this::notFound);
    }

    // ---------------------------------------------------------------- access

    private void authenticate(ServerRequest req, ServerResponse res) {
        String address = Access.address(req);
        Optional<String[]> basic = Access.basic(req);
        Actor actor;
        if (Access.bearer(req)) {
            res.header(HeaderNames.WWW_AUTHENTICATE, REALM);
            error(res, Status.UNAUTHORIZED_401, "API keys do not open the console API: use the admin user with HTTP Basic "
                    + "(curl -u admin:PASSWORD ...)");
            return;
        }
        if (basic.isPresent()) {
            Access.Check check = access.check(address, basic.get()[0], basic.get()[1]);
            if (check.verdict() == Access.Verdict.WAIT) {
                res.header(HeaderNames.RETRY_AFTER, Long.toString(Access.seconds(check.retryAfter())));
                error(res, Status.TOO_MANY_REQUESTS_429, "too many failed logins from this address or for this user: try again in "
                        + Access.seconds(check.retryAfter()) + " s");
                return;
            }
            if (check.verdict() == Access.Verdict.WRONG) {
                res.header(HeaderNames.WWW_AUTHENTICATE, REALM);
                error(res, Status.UNAUTHORIZED_401, "wrong admin user or password");
                return;
            }
            actor = new Actor(basic.get()[0], "api", address);
            if (req.prologue().method() == Method.POST && !readFields(req, res)) {
                return;
            }

        } else {
            Optional<Session> session = access.session(req);
            if (session.isEmpty()) {
                // no Basic challenge for the console's own scripts: the browser would pop up a password dialog
                if (!Access.sentSessionCookie(req) && req.headers().first(io.helidon.http.HeaderNames.create("X-Requested-With")).isEmpty()) {
                    res.header(HeaderNames.WWW_AUTHENTICATE, REALM);
                }
                error(res, Status.UNAUTHORIZED_401, "log in at /admin/login, or send the admin user with HTTP Basic (curl -u admin:PASSWORD ...)");
                return;
            }
            actor = new Actor(session.get().user(), "api", address);
            if (req.prologue().method() == Method.POST) {
                if (!readFields(req, res)) {
                    return;
                }
                if (!Access.csrfMatches(session.get(), req, req.context().get(Fields.class).orElseThrow())) {
                    error(res, Status.FORBIDDEN_403, "refused: a POST with the console's session cookie needs its CSRF token "
                            + "in the X-CSRF-Token header (or use HTTP Basic, which needs none)");
                    return;
                }
            }
        }
        req.context().register(actor);
        res.next();
    }

    private boolean readFields(ServerRequest req, ServerResponse res) {
        if (isImport(req.path().path())) {
            // an import's body is the project's lines, read by the import itself
            req.context().register(Fields.empty());
            return true;
        }
        try {
            req.context().register(Fields.read(req));
            return true;
        } catch (IllegalArgumentException e) {
            error(res, Status.BAD_REQUEST_400, e.getMessage());
            return false;
        }
    }

    /** @return whether the path (below {@code /admin/api}) is a project's import, whose body the import streams */
    static boolean isImport(String path) {
        return path.startsWith("/projects/") && path.endsWith("/import") && path.indexOf('/', "/projects/".length()) == path.length() - "/import".length();
    }

    // ---------------------------------------------------------------- reads

    private void pool(ServerRequest req, ServerResponse res) {
        String schema = req.path().pathParameters().get("schema");
        safely(res, () -> {
            Optional<Reads.PoolDetail> detail = reads.pool(schema);
            if (detail.isEmpty() && schema.equals(reads.physicalName())) {
                // no schema is called that (dementia_control, proj_*): say where the physical pool is
                error(res, Status.NOT_FOUND_404, new UnknownPoolException(schema).getMessage() + "; the physical pool is GET /admin/api/physical");
                return;
            }
            send(res, Status.OK_200, detail.orElseThrow(() -> new UnknownPoolException(schema)));
        });
    }

    private void audit(ServerRequest req, ServerResponse res) {
        safely(res, () -> {
            Fields q = Fields.form(req.query().rawValue() == null ? "" : req.query().rawValue());
            int limit = q.optionalWholeNumber("limit").orElse(100);
            if (limit < 1 || limit > AdminAudit.MAX_READ) {
                throw new IllegalArgumentException("limit must be between 1 and " + AdminAudit.MAX_READ + ", got " + limit);
            }
            long before = q.optionalWholeNumber("before").map(Integer::longValue).orElse(Long.MAX_VALUE);
            send(res, Status.OK_200, Map.of("entries", reads.audit(limit, before)));
        });
    }

    private void history(ServerRequest req, ServerResponse res) {
        safely(res, () -> {
            String since = req.query().first("since").orElse("0");
            long sinceMillis;
            try {
                sinceMillis = Long.parseLong(since);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("since must be epoch milliseconds, got `" + since + "`");
            }
            Map<String, List<long[]>> pools = new LinkedHashMap<>();
            reads.history().since(sinceMillis).forEach((schema, samples) -> {
                List<long[]> rows = new ArrayList<>(samples.size());
                samples.forEach(s -> rows.add(new long[] {s.at(), s.active(), s.waiting(), s.max()}));
                pools.put(schema, rows);
            });
            List<long[]> physical = new ArrayList<>();
            reads.history().physicalSince(sinceMillis).forEach(s -> physical.add(new long[] {s.at(), s.active(), s.waiting(), s.max(), s.total()}));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("at", System.currentTimeMillis());
            body.put("everyMs", PoolHistory.EVERY.toMillis());
            body.put("windowMs", PoolHistory.WINDOW.toMillis());
            body.put("columns", List.of("at", "active", "waiting", "max"));
            body.put("pools", pools);
            body.put("physicalColumns", List.of("at", "active", "waiting", "max", "total"));
            body.put("physical", physical);
            send(res, Status.OK_200, body);
        });
    }

    // ---------------------------------------------------------------- actions

    private void poolAction(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        Fields f = req.context().get(Fields.class).orElse(Fields.empty());
        String schema = req.path().pathParameters().get("schema");
        String action = req.path().pathParameters().get("action");
        safely(res, () -> {
            Operations.PoolChange change = operations.apply(who, schema, action, f).orElse(null);
            if (change == null) {
                error(res, Status.NOT_FOUND_404, "no action `" + action + "`: use resize, drain, suspend, resume or retire");
                return;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("before", Operations.auditValues(change.before()));
            body.put("after", Operations.auditValues(change.after()));
            body.put("pool", reads.view(change.after()));
            send(res, Status.OK_200, body);
        });
    }

    private void physicalAction(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        String action = req.path().pathParameters().get("action");
        safely(res, () -> {
            Operations.PhysicalChange change = operations.applyToPhysical(who, action).orElse(null);
            if (change == null) {
                error(res, Status.NOT_FOUND_404, "no action `" + action + "` for the physical pool: use reconnect");
                return;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("before", Operations.auditValues(change.before()));
            body.put("after", Operations.auditValues(change.after()));
            body.put("physical", reads.physicalView(change.after()));
            send(res, Status.OK_200, body);
        });
    }

    private void cleanupRun(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        safely(res, () -> {
            Operations.CleanupChange change = operations.cleanupNow(who);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("report", Reads.CleanupRun.of(change.report()));
            send(res, Status.OK_200, body);
        });
    }

    private void cleanupSettings(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        Fields f = req.context().get(Fields.class).orElse(Fields.empty());
        safely(res, () -> {
            Duration interval = Duration.ofSeconds(f.wholeNumber("intervalSeconds"));
            Duration idleMax = Duration.ofSeconds(f.wholeNumber("idleMaxSeconds"));
            Operations.CleanupChange change = operations.cleanupSettings(who, interval, idleMax);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("cleanup", reads.cleanup());
            send(res, Status.OK_200, body);
        });
    }

    private void createKey(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        Fields f = req.context().get(Fields.class).orElse(Fields.empty());
        safely(res, () -> {
            Operations.KeyChange change = operations.createKey(who, f);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("key", change.secret());
            body.put("record", Operations.keyValues(change.key()));
            send(res, Status.CREATED_201, body);
        });
    }

    private void revokeKey(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        String name = req.path().pathParameters().get("name");
        safely(res, () -> {
            Operations.KeyChange change = operations.revokeKey(who, name);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("done", change.done());
            body.put("record", Operations.keyValues(change.key()));
            send(res, Status.OK_200, body);
        });
    }

    /** Streams the project's JSON Lines as they are read ({@code application/x-ndjson}). */
    /** Moves a project to another worker of a Citus cluster: {@code {"node": "host:port"}}; answers when it is done. */
    private void moveProject(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        String name = req.path().pathParameters().get("name");
        Fields f = req.context().get(Fields.class).orElse(Fields.empty());
        safely(res, () -> {
            Optional<String> node = f.text("node");
            if (node.isEmpty()) {
                error(res, Status.BAD_REQUEST_400, "refused: give the worker to move to as {\"node\": \"host:port\"}");
                return;
            }
            send(res, Status.OK_200, operations.moveProject(who, name, node.get()));
        });
    }

    private void exportProject(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        safely(res, () -> {
            Optional<cloud.dementia.db.schema.Projects.Project> project = operations.project(name);
            if (project.isEmpty()) {
                error(res, Status.NOT_FOUND_404, "no project `" + name + "`");
                return;
            }
            res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, "application/x-ndjson; charset=utf-8")
                    .header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + name.replace('"', '_') + ".jsonl\"");
            try (java.io.OutputStream out = res.outputStream()) {
                operations.export(project.get(), line -> {
                    try {
                        out.write((line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /**
     * Streams the body into the project as it arrives, one transaction. A body past {@code DEMENTIA_IMPORT_MAX_BYTES}
     * stops the read (413) and the transaction rolls back: nothing is kept, and no project is created.
     */
    private void importProject(ServerRequest req, ServerResponse res) {
        Actor who = req.context().get(Actor.class).orElseThrow();
        String name = req.path().pathParameters().get("name");
        safely(res, () -> {
            InputStream body = req.content().hasEntity() ? req.content().inputStream() : InputStream.nullInputStream();
            try {
                send(res, Status.OK_200, operations.importProject(who, name, body));
            } catch (HttpException e) {
                overLimit(res, e, e.status());
            } catch (RequestException e) {
                overLimit(res, e, e.status());
            }
        });
    }

    /** The body went past the import limit while it was read (the transaction has rolled back); other failures go on. */
    private static void overLimit(ServerResponse res, RuntimeException e, Status status) {
        if (status != Status.REQUEST_ENTITY_TOO_LARGE_413) {
            throw e;
        }
        // the rest of the body is not read: the connection closes after this answer
        res.header(HeaderValues.CONNECTION_CLOSE);
        error(res, Status.REQUEST_ENTITY_TOO_LARGE_413, "refused: the body is larger than the import limit (DEMENTIA_IMPORT_MAX_BYTES); "
                + "nothing was imported");
    }

    private void notFound(ServerRequest req, ServerResponse res) {
        error(res, Status.NOT_FOUND_404, "no " + req.prologue().method().text() + " " + req.path().absolute().path()
                + " in the console API: see docs/console.md, section Console API");
    }

    // ---------------------------------------------------------------- responses

    /** Runs a route's work; whatever fails in it is answered by {@link #fail}. */
    private static void safely(ServerResponse res, Runnable action) {
        try {
            action.run();
        } catch (HttpException | RequestException | java.io.UncheckedIOException e) {
            // the web server's own answers (a body too large, a bad request line) and a broken connection are its to handle
            throw e;
        } catch (RuntimeException e) {
            fail(res, e);
        }
    }

    /**
     * The one place a failure becomes an API answer: refused input 400 (a name taken 409), an unknown pool 404, no
     * connection in time or a suspended schema 503 with {@code Retry-After}, anything else 500, logged here once.
     */
    private static void fail(ServerResponse res, RuntimeException e) {
        Failure failure = Failure.of(e);
        String message = switch (failure.kind()) {
            case BAD_INPUT, CONFLICT -> "refused: " + failure.message();
            case NOT_FOUND -> failure.message();
            case UNAVAILABLE -> {
                res.header(HeaderNames.RETRY_AFTER, Integer.toString(failure.retryAfterSeconds()));
                yield failure.message();
            }
            case INTERNAL -> {
                LOG.log(Level.WARNING, "console API: " + failure.message(), e);
                yield failure.message();
            }
        };
        error(res, Status.create(failure.kind().httpStatus()), message);
    }

    static void error(ServerResponse res, Status status, String message) {
        send(res, status, Map.of("error", message));
    }

    static void send(ServerResponse res, Status status, Object body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json").send(Json.write(body));
    }
}
