package cloud.dementia.server.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.DementiaServer;
import cloud.dementia.server.Settings;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.observe.Scrape;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's kit in {@code ops/} (#11), checked without a Docker engine or a cluster: every YAML and JSON file
 * parses, the Kubernetes objects fit together and probe routes a running server answers, every metric the dashboard
 * and the alerts read is one a running server exports, and Debian's {@code promtool} and {@code docker-compose} accept
 * the files (missing tools fail the test: {@code .ci/run} installs them).
 */
class OpsFilesTest {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path OPS = ROOT.resolve("ops");
    static final YAMLMapper YAML = new YAMLMapper();
    static final ObjectMapper JSON = new ObjectMapper();
    /** Series Prometheus makes itself for every target; the alerts may read them too. */
    static final Set<String> PROMETHEUS_OWN = Set.of("up");

    static TestServer server;
    static Scrape scrape;

    @BeforeAll
    static void startAndScrape() throws Exception {
        server = TestServer.start(Map.of("DEMENTIA_EMBEDDINGS", "off"), MemoryTools::create);
        // tool calls, so the per-schema pool meters and the tool meters exist
        for (String call : List.of("{\"tool\":\"create_project\",\"arguments\":{\"name\":\"ops\"}}",
                "{\"tool\":\"lock_context\",\"arguments\":{\"project\":\"ops\",\"topic\":\"kit\",\"content\":\"the operator's kit\"}}",
                "{\"tool\":\"recall_context\",\"arguments\":{\"project\":\"ops\",\"topic\":\"kit\"}}")) {
            assertEquals(200, server.post("/execute", call).statusCode(), call);
        }
        assertEquals(200, server.get("/metrics").statusCode());
        scrape = Scrape.parse(server.get("/metrics").body());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // --- every file parses ---

    @Test
    void everyYamlAndJsonFileUnderOpsParses() throws IOException {
        List<Path> files = opsFiles();
        assertThat(files.size(), greaterThan(15));
        for (Path file : files) {
            List<JsonNode> documents = read(file);
            assertThat(file + " holds a document", documents, not(empty()));
            for (JsonNode doc : documents) {
                assertTrue(doc.isObject() && !doc.isEmpty(), file + " is an object with content");
            }
        }
    }

    // --- Kubernetes ---

    @Test
    void kubernetesObjectsHaveTheirRequiredFieldsAndKustomizationListsThemAll() throws IOException {
        Map<String, JsonNode> objects = kubernetes();
        Set<String> kinds = new TreeSet<>();
        for (Map.Entry<String, JsonNode> e : objects.entrySet()) {
            JsonNode o = e.getValue();
            assertMatches(e.getKey() + " apiVersion", o.path("apiVersion").asText(), "[a-z0-9./]+");
            assertFalse(o.path("kind").asText().isEmpty(), e.getKey() + " kind");
            assertMatches(e.getKey() + " metadata.name", o.path("metadata").path("name").asText(), "[a-z0-9]([-a-z0-9]*[a-z0-9])?");
            kinds.add(o.path("apiVersion").asText() + " " + o.path("kind").asText());
        }
        assertEquals(new TreeSet<>(List.of("apps/v1 Deployment", "v1 Service", "autoscaling/v2 HorizontalPodAutoscaler",
                "policy/v1 PodDisruptionBudget", "v1 ConfigMap", "v1 Secret")), kinds);
        JsonNode kustomization = read(OPS.resolve("k8s/kustomization.yaml")).getFirst();
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        assertEquals(new TreeSet<>(objects.keySet()), listed, "kustomization.yaml lists every manifest");
    }

    @Test
    void deploymentsSelectTheirOwnPodsAndServicesHpaAndPdbReachThem() throws IOException {
        List<JsonNode> objects = List.copyOf(kubernetes().values());
        List<JsonNode> deployments = ofKind(objects, "Deployment");
        assertEquals(2, deployments.size(), "the server and PgBouncer");
        for (JsonNode d : deployments) {
            assertTrue(contains(d.at("/spec/template/metadata/labels"), d.at("/spec/selector/matchLabels")),
                    name(d) + ": the selector matches the pod template's labels");
        }
        for (JsonNode service : ofKind(objects, "Service")) {
            JsonNode target = deployments.stream().filter(d -> contains(d.at("/spec/template/metadata/labels"), service.at("/spec/selector")))
                    .findFirst().orElseThrow(() -> new AssertionError(name(service) + " selects no Deployment's pods"));
            for (JsonNode port : service.at("/spec/ports")) {
                assertTrue(containerPort(target, port.path("targetPort")) > 0, name(service) + " targets a port of " + name(target));
            }
        }
        JsonNode hpa = ofKind(objects, "HorizontalPodAutoscaler").getFirst();
        assertEquals("Deployment", hpa.at("/spec/scaleTargetRef/kind").asText());
        assertEquals("dementia-cloud", hpa.at("/spec/scaleTargetRef/name").asText());
        assertThat(hpa.at("/spec/minReplicas").asInt(), greaterThan(1));
        JsonNode pdb = ofKind(objects, "PodDisruptionBudget").getFirst();
        assertTrue(contains(server(objects).at("/spec/template/metadata/labels"), pdb.at("/spec/selector/matchLabels")),
                "the disruption budget covers the server's pods");
    }

    @Test
    void serverProbesAreHealthRoutesThatARunningServerAnswers() throws Exception {
        List<JsonNode> objects = List.copyOf(kubernetes().values());
        JsonNode deployment = server(objects);
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        assertEquals("/observe/health/live", container.at("/livenessProbe/httpGet/path").asText());
        assertEquals("/observe/health/ready", container.at("/readinessProbe/httpGet/path").asText());
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            assertEquals(200, server.send(server.bare(get.path("path").asText()).GET()).statusCode(), probe + " answers 200 without a key");
            int port = containerPort(deployment, get.path("port"));
            assertEquals(Integer.parseInt(serverEnvironment(objects).get("PORT")), port, probe + " is on PORT");
        }
        assertThat("SIGTERM, then the server's own grace, within the pod's", deployment.at("/spec/template/spec/terminationGracePeriodSeconds").asLong(),
                greaterThan(DementiaServer.SHUTDOWN_GRACE.toSeconds() + 5));
        assertTrue(deployment.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean(), "non-root");
        assertEquals("false", container.at("/securityContext/allowPrivilegeEscalation").asText());
        assertFalse(container.at("/resources/requests").isEmpty(), "resources");
    }

    @Test
    void serverConfigMapAndSecretHoldOnlyContractVariablesWithValidValues() throws IOException {
        Map<String, String> env = serverEnvironment(List.copyOf(kubernetes().values()));
        assertThat(env.keySet(), hasItem("DATABASE_URL"));
        assertEquals(Set.of(), difference(env.keySet(), Set.copyOf(Settings.VARIABLES)), "variables the server does not read");
        Settings settings = Settings.load(env);
        assertEquals("pgbouncer", settings.externalTarget().orElseThrow().jdbcUrl().replaceAll("jdbc:postgresql://([^:/]+).*", "$1"),
                "the server goes through PgBouncer");
        JsonNode pgbouncer = read(OPS.resolve("k8s/pgbouncer-configmap.yaml")).getFirst();
        assertEquals("transaction", pgbouncer.at("/data/POOL_MODE").asText());
    }

    // --- compose ---

    @Test
    void composePinsEveryImageReadsSecretsFromTheEnvFileAndChecksEveryService() throws IOException {
        JsonNode services = read(OPS.resolve("compose/compose.yaml")).getFirst().path("services");
        assertEquals(Set.of("postgres", "pgbouncer", "server", "prometheus", "grafana"), fieldNames(services));
        for (Map.Entry<String, JsonNode> e : services.properties()) {
            JsonNode s = e.getValue();
            if (s.path("build").isMissingNode()) {
                assertMatches(e.getKey() + " pins its image", s.path("image").asText(), "[a-z0-9./-]+:[^:]*\\d[^:]*");
            }
            assertEquals("unless-stopped", s.path("restart").asText(), e.getKey() + " restart policy");
            assertFalse(s.path("healthcheck").path("test").isEmpty(), e.getKey() + " has a health check");
            for (Map.Entry<String, JsonNode> dep : s.path("depends_on").properties()) {
                assertFalse(dep.getValue().path("condition").asText().isEmpty(), e.getKey() + " waits on " + dep.getKey() + " with a condition");
            }
            for (Map.Entry<String, JsonNode> var : s.path("environment").properties()) {
                if (var.getKey().matches(".*(PASSWORD|_KEY|DATABASE_URL).*")) {
                    assertThat(e.getKey() + " " + var.getKey() + " comes from the env file", var.getValue().asText(), containsString("${"));
                }
            }
        }
        assertEquals("postgres:17", services.at("/postgres/image").asText().replaceAll("\\..*", ""), "PostgreSQL 17");
        assertEquals("transaction", services.at("/pgbouncer/environment/POOL_MODE").asText());
        assertThat(services.at("/server/environment/DATABASE_URL").asText(), containsString("@pgbouncer:"));
        assertEquals("service_healthy", services.at("/server/depends_on/pgbouncer/condition").asText());
        assertEquals(Set.of(), difference(fieldNames(services.at("/server/environment")), Set.copyOf(Settings.VARIABLES)),
                "the server's variables are the contract's");
        assertTrue(Files.readString(ROOT.resolve(".gitignore")).lines().anyMatch(".env"::equals), "the env file is never committed");
    }

    // --- metrics: the dashboard and the alerts read what the server exports ---

    @Test
    void everyMetricTheDashboardAndTheAlertsReadIsOneTheServerExports() throws IOException {
        Set<String> exported = scrape.names();
        Map<String, String> alerts = alertExpressions();
        assertEquals(Set.of("DementiaPoolSaturated", "DementiaAcquireTimeoutsRising", "DementiaSuspectedLeaks", "DementiaBudgetNearlyFull",
                "DementiaIdleCleanupNotRunning", "DementiaNotReady", "DementiaEmbeddingBacklogNotDraining"), alerts.keySet());
        Set<String> read = new TreeSet<>();
        alerts.forEach((alert, expr) -> {
            Set<String> names = metricNames(expr);
            assertThat(alert + " reads a metric", names, not(empty()));
            assertEquals(Set.of(), difference(names, union(exported, PROMETHEUS_OWN)), alert + ": metrics the server does not export");
            read.addAll(names);
        });
        Map<String, String> panels = dashboardExpressions();
        assertThat(panels.size(), greaterThan(10));
        panels.forEach((panel, expr) -> {
            Set<String> names = metricNames(expr);
            assertThat(panel + " reads a metric", names, not(empty()));
            assertEquals(Set.of(), difference(names, exported), panel + ": metrics the server does not export");
            assertThat(panel + " filters on the application variable", expr, containsString("application=\"$application\""));
            read.addAll(names);
        });
        JsonNode dashboard = JSON.readTree(OPS.resolve("grafana/dashboards/dementia-cloud.json").toFile());
        Matcher variable = Pattern.compile("label_values\\((\\w+),\\s*application\\)")
                .matcher(dashboard.at("/templating/list/1/definition").asText());
        assertTrue(variable.matches(), "the application variable lists the application label's values");
        assertThat(exported, hasItem(variable.group(1)));
        for (String kept : List.of("dementia_tool_latency_seconds_bucket", "http_server_requests_seconds_count", "jvm_memory_used_bytes",
                "db_pool_connections_used", "db_pool_budget_allocated", "db_pool_leaks_suspected")) {
            assertThat("the kit reads " + kept, read, hasItem(kept));
        }
    }

    @Test
    void metricNamesAreReadFromPromQlWithoutFunctionsLabelsOrKeywords() {
        assertEquals(Set.of("dementia_tool_latency_seconds_bucket"), metricNames(
                "histogram_quantile(0.99, sum by (le, tool) (rate(dementia_tool_latency_seconds_bucket{application=\"$application\",tool=~\"a|b\"}[$__rate_interval])))"));
        assertEquals(Set.of("db_pool_connections_available", "db_pool_connections_waiting"),
                metricNames("db_pool_connections_available == 0 and db_pool_connections_waiting > 0"));
        assertEquals(Set.of("up"), metricNames("up{job=\"dementia-cloud\"} == 0"));
    }

    // --- Debian's tools accept the files ---

    @Test
    void promtoolAcceptsTheAlertRulesAndTheScrapeConfig() throws Exception {
        String promtool = tool("promtool", "prometheus");
        Result rules = run(promtool, "check", "rules", "ops/prometheus/alerts.yml");
        assertEquals(0, rules.exit(), rules.output());
        assertThat(rules.output(), containsString("SUCCESS: 7 rules found"));
        // syntax only: the key file (credentials_file) exists only inside the Prometheus container
        Result config = run(promtool, "check", "config", "--syntax-only", "ops/prometheus/prometheus.yml");
        assertEquals(0, config.exit(), config.output());
        JsonNode scrapeConfig = read(OPS.resolve("prometheus/prometheus.yml")).getFirst().at("/scrape_configs/0");
        assertEquals("Bearer", scrapeConfig.at("/authorization/type").asText(), "the scrape sends the API key");
        assertEquals("/metrics", scrapeConfig.path("metrics_path").asText());
    }

    @Test
    void dockerComposeAcceptsTheComposeFileWithTheExampleEnvFile() throws Exception {
        Result config = run(tool("docker-compose", "docker-compose"), "-f", "ops/compose/compose.yaml", "--env-file", "ops/compose/.env.example",
                "config", "-q");
        assertEquals(0, config.exit(), config.output());
    }

    // --- the image ---

    @Test
    void imageIsBuiltWithLinuxBinariesOnlyRunsAsNonRootAndChecksItsHealth() throws IOException {
        String dockerfile = Files.readString(OPS.resolve("Dockerfile"));
        for (String from : dockerfile.lines().filter(l -> l.startsWith("FROM ")).toList()) {
            assertMatches("a pinned base image: " + from, from, "FROM [a-z0-9./-]+:\\d[^ ]*( AS \\w+)?");
        }
        assertThat(dockerfile, containsString("-Pcontainer"));
        assertMatches("a non-root user with a fixed id", dockerfile, "(?s).*\\nUSER 10001:10001\\n.*");
        assertMatches("a health check on readiness", dockerfile, "(?s).*\\nHEALTHCHECK .*/observe/health/ready.*");
        assertMatches("exec form: SIGTERM reaches the JVM", dockerfile, "(?s).*\\nENTRYPOINT \\[\"java\", .*");
        assertThat(Files.readString(ROOT.resolve("server/pom.xml")), containsString("<id>container</id>"));
        List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"));
        for (String kept : List.of(".dementia", "**/target", ".git", "ops/clients/node_modules", "**/.env")) {
            assertThat(".dockerignore keeps " + kept + " out of the build", ignored, hasItem(kept));
        }
    }

    // --- helpers ---

    static void assertMatches(String reason, String actual, String regex) {
        assertTrue(actual.matches(regex), reason + ": `" + actual + "` does not match " + regex);
    }

    static List<Path> opsFiles() throws IOException {
        try (Stream<Path> walk = Files.walk(OPS)) {
            return walk.filter(p -> p.toString().matches(".*\\.(ya?ml|json)$"))
                    .filter(p -> !p.toString().contains("node_modules") && !p.toString().contains("/target/"))
                    // npm's lock and manifest are the TypeScript SDK test's, not the operator's
                    .filter(p -> !p.startsWith(OPS.resolve("clients")))
                    .sorted().toList();
        }
    }

    static List<JsonNode> read(Path file) throws IOException {
        if (file.toString().endsWith(".json")) {
            return List.of(JSON.readTree(file.toFile()));
        }
        return YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).readAll();
    }

    /** @return every manifest under {@code ops/k8s} (the kustomization aside), by file name */
    static Map<String, JsonNode> kubernetes() throws IOException {
        Map<String, JsonNode> objects = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(OPS.resolve("k8s"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("kustomization.yaml")).toList()) {
                List<JsonNode> docs = read(file);
                assertEquals(1, docs.size(), file + " holds one object");
                objects.put(file.getFileName().toString(), docs.getFirst());
            }
        }
        return objects;
    }

    static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    static JsonNode server(List<JsonNode> objects) {
        return ofKind(objects, "Deployment").stream().filter(d -> name(d).equals("dementia-cloud")).findFirst().orElseThrow();
    }

    /** @return the variables the server's Deployment takes from its ConfigMap and Secret */
    static Map<String, String> serverEnvironment(List<JsonNode> objects) {
        Map<String, String> env = new HashMap<>();
        for (JsonNode from : server(objects).at("/spec/template/spec/containers/0/envFrom")) {
            String config = from.at("/configMapRef/name").asText();
            String secret = from.at("/secretRef/name").asText();
            JsonNode source = objects.stream().filter(o -> name(o).equals(config.isEmpty() ? secret : config)
                    && o.path("kind").asText().equals(config.isEmpty() ? "Secret" : "ConfigMap")).findFirst()
                    .orElseThrow(() -> new AssertionError("envFrom names a missing object: " + from));
            source.path(config.isEmpty() ? "stringData" : "data").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        }
        return env;
    }

    static String name(JsonNode object) {
        return object.at("/metadata/name").asText();
    }

    /** @return the number of the container port a probe or Service names (by name or number), or 0 */
    static int containerPort(JsonNode deployment, JsonNode port) {
        for (JsonNode container : deployment.at("/spec/template/spec/containers")) {
            for (JsonNode p : container.path("ports")) {
                if (port.isInt() ? p.path("containerPort").asInt() == port.asInt() : p.path("name").asText().equals(port.asText())) {
                    return p.path("containerPort").asInt();
                }
            }
        }
        return 0;
    }

    static boolean contains(JsonNode labels, JsonNode selector) {
        if (selector.isMissingNode() || selector.isEmpty()) {
            return false;
        }
        for (Map.Entry<String, JsonNode> e : selector.properties()) {
            if (!labels.path(e.getKey()).asText().equals(e.getValue().asText())) {
                return false;
            }
        }
        return true;
    }

    static Map<String, String> alertExpressions() throws IOException {
        Map<String, String> exprs = new java.util.LinkedHashMap<>();
        for (JsonNode group : read(OPS.resolve("prometheus/alerts.yml")).getFirst().path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                exprs.put(rule.path("alert").asText(), rule.path("expr").asText());
            }
        }
        return exprs;
    }

    static Map<String, String> dashboardExpressions() throws IOException {
        Map<String, String> exprs = new java.util.LinkedHashMap<>();
        for (JsonNode panel : JSON.readTree(OPS.resolve("grafana/dashboards/dementia-cloud.json").toFile()).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.put(panel.path("title").asText() + " " + target.path("refId").asText(), target.path("expr").asText());
            }
        }
        return exprs;
    }

    private static final Set<String> PROMQL_WORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan");

    /**
     * The metric names a PromQL expression reads: identifiers left once strings, label matchers, ranges, grouping
     * label lists and Grafana variables are taken out, that are not followed by {@code (} (functions, aggregations)
     * and are not keywords.
     */
    static Set<String> metricNames(String expr) {
        String bare = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\w+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w.])[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()").matcher(bare);
        while (m.find()) {
            if (!PROMQL_WORDS.contains(m.group().toLowerCase(java.util.Locale.ROOT))) {
                names.add(m.group());
            }
        }
        return names;
    }

    static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    static Set<String> fieldNames(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** @return the tool's path; fails, naming the Debian package to install, when it is not on PATH */
    static String tool(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(name + " is not installed: apt-get install -y " + debianPackage + " (.ci/run installs it)");
    }

    record Result(int exit, String output) {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
