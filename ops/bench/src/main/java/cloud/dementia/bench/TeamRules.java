package cloud.dementia.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Realistic contexts of a software team, generated deterministically from a seed: rules and decisions about naming,
 * testing, deployment, the database, security, code review, logging, API design and more, five sentences each. Each
 * area has its own subjects, tools and rule shapes, and the sentences around the rule (why, where it applies, how it
 * is enforced, who owns it) are drawn from shared pools with slots, so that ten thousand of them are not all alike.
 * About a fifth state an ALWAYS or NEVER rule (priority {@code always_check} as the server detects it), about a third
 * say that something is required or must be done ({@code important}), the rest are reference.
 */
final class TeamRules {

    /** One generated context: its topic, its five sentences, the priority the server would detect, and its tags. */
    record Rule(String topic, String content, String priority, List<String> tags) {
    }

    /** One area of the team's rules: words for the slots, and its own rule shapes. */
    private record Area(String name, String[] subjects, String[] tools, String[] rules, String[] always, String[] never) {
    }

    // Slots: {s} a subject of the area, {t} a tool of the area, {n} a small number, {d} a number of days, {e} an
    // environment, {team} a team, {q} a quarter. The rule shapes carry no priority words (must, required, important,
    // critical, always, never): the priority sentence adds them.
    private static final Area[] AREAS = {
            new Area("naming",
                    new String[] {"service names", "database tables", "Kafka topics", "feature branches", "environment variables", "metric names",
                            "Java packages", "REST resources", "S3 buckets", "Terraform modules", "CSS classes", "test methods"},
                    new String[] {"Checkstyle", "ESLint", "a naming lint in CI", "the schema linter", "ktlint", "the Terraform validator"},
                    new String[] {"{s} are lowercase and use kebab-case with the owning domain as the first word",
                            "{s} describe what a thing is, not how it is built; abbreviations other than id and url are avoided",
                            "{s} carry the team prefix so that ownership is visible in dashboards and bills",
                            "plural nouns name collections in {s}, singular nouns name single items",
                            "{s} keep their name for life once they are in production; a rename is a migration with an alias"},
                    new String[] {"spell {s} in English and in full words", "prefix {s} with the bounded context they belong to"},
                    new String[] {"reuse a retired name for new {s}", "encode the environment in {s}; configuration says where a thing runs"}),
            new Area("testing",
                    new String[] {"unit tests", "integration tests", "contract tests", "end-to-end tests", "snapshot tests", "property-based tests",
                            "load tests", "mutation tests", "smoke tests", "migration tests"},
                    new String[] {"JUnit 5", "Testcontainers", "Playwright", "Pact", "k6", "WireMock", "AssertJ", "PIT", "jqwik"},
                    new String[] {"{s} run with {t} in the pipeline and finish in under {n} minutes",
                            "{s} live next to the code they cover and share fixtures through test/support",
                            "flaky {s} are quarantined with a ticket and repaired within {d} days",
                            "every bug fix comes with one of the {s} that fails without the fix",
                            "{s} build their own data and clean up after themselves, so they can run in any order",
                            "coverage of {s} is reported per module; a drop of more than {n} points is discussed in review"},
                    new String[] {"run {s} against a real PostgreSQL in Testcontainers, not an in-memory imitation",
                            "name {s} after the behaviour they check"},
                    new String[] {"sleep in {s} to wait for something; poll with a timeout instead",
                            "let {s} depend on the order in which they run", "disable failing {s} without a ticket"}),
            new Area("deployment",
                    new String[] {"production deploys", "canary releases", "blue-green switches", "database rollouts", "hotfixes",
                            "Helm charts", "Kubernetes manifests", "rollbacks", "config changes", "preview environments"},
                    new String[] {"Argo CD", "Helm", "GitHub Actions", "Spinnaker", "Terraform", "Flux", "kubectl"},
                    new String[] {"{s} go out through {t} from the main branch, not by hand from a laptop",
                            "{s} happen between 9:00 and 16:00 on working days so that people are around to watch them",
                            "{s} start with {n} percent of the traffic and grow after fifteen quiet minutes",
                            "{s} are announced in the deploys channel with the change log and the person on watch",
                            "{s} are rehearsed on {e} first with the same artifact that goes to production"},
                    new String[] {"deploy {s} with a rollback plan written in the ticket", "tag the artifact of {s} with the commit hash"},
                    new String[] {"deploy {s} on a Friday afternoon", "change {s} directly in the cluster without a commit"}),
            new Area("database",
                    new String[] {"schema migrations", "indexes", "foreign keys", "long transactions", "read replicas", "connection pools",
                            "JSONB columns", "partitioned tables", "backups", "vacuum settings", "sequences"},
                    new String[] {"Flyway", "Liquibase", "pg_stat_statements", "PgBouncer", "HikariCP", "pgBackRest", "EXPLAIN ANALYZE"},
                    new String[] {"{s} are reviewed by the data platform team before they reach {e}",
                            "{s} are changed in two steps, expand then contract, so old and new code work at once",
                            "{s} are checked with {t} on a copy of production data before the release",
                            "{s} are sized for {n} times the current load and revisited every quarter",
                            "queries touching {s} carry a statement timeout of {n} seconds"},
                    new String[] {"create indexes concurrently when working on {s}", "measure {s} with {t} before and after a change"},
                    new String[] {"hold locks on {s} while calling another service", "run DDL on {s} by hand in production"}),
            new Area("security",
                    new String[] {"API tokens", "TLS certificates", "session cookies", "password hashes", "service accounts", "IAM roles",
                            "third-party scripts", "uploaded files", "SSH keys", "audit logs", "personal data exports"},
                    new String[] {"Vault", "Snyk", "Trivy", "OWASP ZAP", "Dependabot", "SOPS", "cert-manager"},
                    new String[] {"{s} rotate every {d} days and the rotation is automated with {t}",
                            "{s} follow least privilege: each service gets only the scopes it uses",
                            "{s} are scanned by {t} on every merge request and findings block the merge above medium",
                            "{s} are listed in the asset inventory with an owner and an expiry date",
                            "access to {s} is logged and the log is kept for {d} days"},
                    new String[] {"encrypt {s} at rest and in transit", "review {s} when someone leaves the team"},
                    new String[] {"commit {s} to the repository, not even in a test folder", "share {s} over chat or email"}),
            new Area("code-review",
                    new String[] {"pull requests", "review comments", "large refactorings", "generated code", "dependency bumps",
                            "design changes", "draft changes", "stacked branches", "review turnaround"},
                    new String[] {"GitHub", "GitLab", "Danger", "CODEOWNERS", "Reviewable", "SonarQube"},
                    new String[] {"{s} stay under {n} hundred changed lines; bigger work is split into a series",
                            "{s} get a first answer within one working day, the author pings the channel after that",
                            "{s} describe the why in the description and link the ticket",
                            "{s} are checked by {t} for size, missing tests and changed owners",
                            "nitpicks on {s} are marked as optional so the author can merge without another round"},
                    new String[] {"explain in {s} how the change was tested", "resolve every thread on {s} before merging"},
                    new String[] {"approve {s} you have not read", "merge {s} with a red pipeline"}),
            new Area("logging",
                    new String[] {"request logs", "error logs", "audit events", "debug output", "access logs", "structured fields",
                            "log levels", "correlation ids", "log retention"},
                    new String[] {"Loki", "Elasticsearch", "Fluent Bit", "SLF4J", "Logback", "Vector", "Datadog"},
                    new String[] {"{s} are JSON with a timestamp, a level, the service and the trace id",
                            "{s} are shipped with {t} and kept for {d} days",
                            "{s} at DEBUG are off in production and switched on per request with a header",
                            "{s} mask emails, tokens and card numbers before they leave the process",
                            "{s} name the operation and its outcome in one line, not one line per step"},
                    new String[] {"include the correlation id in {s}", "log {s} at the edge of the service, once"},
                    new String[] {"log {s} with full request bodies", "use print statements instead of the logger for {s}"}),
            new Area("api-design",
                    new String[] {"REST endpoints", "GraphQL fields", "webhooks", "query parameters", "error bodies", "timestamps in payloads",
                            "bulk operations", "long-running jobs", "rate limits", "OpenAPI specs", "idempotency keys"},
                    new String[] {"OpenAPI", "Spectral", "Stoplight", "the API gateway", "Kong", "protobuf"},
                    new String[] {"{s} are designed spec first in {t} and reviewed before any code is written",
                            "{s} use nouns in the path and HTTP verbs for the action",
                            "{s} answer within {n} hundred milliseconds at p99 or return 202 with a status link",
                            "{s} document every field with an example in the spec",
                            "changes to {s} are additive; fields are deprecated for {d} days before removal"},
                    new String[] {"lint {s} with {t} in the pipeline", "return ISO 8601 dates in {s}"},
                    new String[] {"expose database ids in {s}; use opaque public ids", "change the meaning of existing {s}"}),
            new Area("frontend",
                    new String[] {"React components", "CSS modules", "design tokens", "form validation", "bundle size", "client routing",
                            "images", "web fonts", "error boundaries", "analytics events"},
                    new String[] {"Storybook", "Vite", "Lighthouse", "Chromatic", "Tailwind", "TypeScript strict mode"},
                    new String[] {"{s} are documented in {t} with every state they can be in",
                            "{s} follow the design system; new variants go through the design review",
                            "{s} are lazy loaded when they are below the fold",
                            "{s} are checked by {t} on every pull request and a regression of {n} points is flagged",
                            "{s} keep their props typed and avoid any"},
                    new String[] {"test {s} with the keyboard only before release", "build {s} from the shared tokens"},
                    new String[] {"inline styles in {s}", "fetch data inside presentational {s}"}),
            new Area("observability",
                    new String[] {"dashboards", "alerts", "SLOs", "traces", "histograms", "health checks", "runbooks", "synthetic checks",
                            "error budgets"},
                    new String[] {"Prometheus", "Grafana", "OpenTelemetry", "Alertmanager", "PagerDuty", "Tempo", "Jaeger"},
                    new String[] {"{s} live in {t} as code, reviewed like any other change",
                            "{s} link to a runbook that says what to look at first",
                            "{s} page only for symptoms users feel; causes go to a ticket queue",
                            "{s} are reviewed each quarter and the ones nobody looked at are deleted",
                            "{s} use the service name and the environment as labels, nothing with unbounded values"},
                    new String[] {"give {s} an owner and a severity", "add {s} before a new service takes traffic"},
                    new String[] {"put user ids in the labels of {s}", "silence {s} without a ticket and an end date"}),
            new Area("performance",
                    new String[] {"hot paths", "batch jobs", "cache hit rates", "cold starts", "database round trips", "memory usage",
                            "thread pools", "payload sizes", "N+1 queries"},
                    new String[] {"JMH", "async-profiler", "JFR", "Gatling", "k6", "flame graphs"},
                    new String[] {"{s} are measured with {t} before and after any optimisation, with the numbers in the pull request",
                            "{s} have a budget in the service's README and the pipeline compares against it",
                            "{s} are profiled on production-like data, not on an empty laptop database",
                            "regressions in {s} above {n} percent open a ticket for the owning team",
                            "{s} are tracked on the weekly performance dashboard"},
                    new String[] {"measure {s} before optimising them", "keep {s} visible on a dashboard"},
                    new String[] {"guess about {s}; profile with {t}", "optimise {s} without a benchmark that shows the gain"}),
            new Area("dependencies",
                    new String[] {"third-party libraries", "transitive dependencies", "base images", "Maven plugins", "npm packages",
                            "licences", "internal libraries", "SDK versions"},
                    new String[] {"Renovate", "Dependabot", "the licence scanner", "Maven Enforcer", "npm audit", "OWASP Dependency-Check"},
                    new String[] {"{s} are updated by {t} in weekly batches grouped by ecosystem",
                            "{s} are pinned to exact versions and the lock file is committed",
                            "{s} with copyleft licences are cleared with legal before the first use",
                            "{s} are reviewed for maintenance activity and open CVEs before adoption",
                            "{s} that nobody imports are removed in the monthly cleanup"},
                    new String[] {"check {s} with {t} before merging", "record why {s} were chosen in the ADR"},
                    new String[] {"copy {s} into the repository by hand", "depend on snapshot versions of {s} in a release"}),
            new Area("incidents",
                    new String[] {"incident channels", "status page updates", "customer notices", "timelines", "follow-up actions",
                            "incident commanders", "severity levels", "war rooms"},
                    new String[] {"PagerDuty", "Statuspage", "incident.io", "Slack", "Jira", "Opsgenie"},
                    new String[] {"{s} are opened in {t} as soon as a sev2 or worse is declared",
                            "{s} are updated every {n} minutes while the incident is open",
                            "{s} record who did what and when, in UTC",
                            "{s} get an owner and a due date before the review ends",
                            "{s} are written in plain language a customer can follow"},
                    new String[] {"name one incident commander for {s}", "post {s} in the shared channel"},
                    new String[] {"blame a person in {s}", "close {s} before the follow-ups have owners"}),
            new Area("ci-pipeline",
                    new String[] {"pipeline stages", "build caches", "test shards", "artifact uploads", "nightly builds", "pipeline secrets",
                            "runner images", "merge queues", "release jobs"},
                    new String[] {"GitHub Actions", "GitLab CI", "Jenkins", "Buildkite", "Bazel", "Gradle build cache"},
                    new String[] {"{s} run on {t} and the whole pipeline stays under {n} minutes",
                            "{s} are defined in the repository next to the code they build",
                            "{s} reuse the same container image as local development",
                            "{s} publish their timings so slow steps are visible",
                            "{s} fail fast: lint and compile come before the slow suites"},
                    new String[] {"keep {s} reproducible from a clean checkout", "pin the versions used by {s}"},
                    new String[] {"skip {s} to get a change in faster", "print {s} values in the build log"}),
            new Area("messaging",
                    new String[] {"Kafka consumers", "event schemas", "dead-letter queues", "outbox tables", "message keys", "retry topics",
                            "consumer groups", "event versions"},
                    new String[] {"Kafka", "RabbitMQ", "the schema registry", "Avro", "Debezium", "SQS"},
                    new String[] {"{s} are registered in {t} and evolve in a backward compatible way",
                            "{s} carry the aggregate id so ordering holds per entity",
                            "{s} are monitored for lag and alert after {n} minutes behind",
                            "{s} are replayed from the dead-letter queue only after the cause is understood",
                            "{s} are published through the outbox in the same transaction as the state change"},
                    new String[] {"make {s} idempotent", "version {s} in the payload"},
                    new String[] {"put personal data in {s} keys", "publish {s} outside the database transaction"}),
            new Area("infrastructure",
                    new String[] {"Terraform state", "VPC rules", "load balancers", "DNS records", "autoscaling groups", "node pools",
                            "cloud budgets", "resource tags", "disaster recovery drills"},
                    new String[] {"Terraform", "Pulumi", "AWS", "GCP", "Crossplane", "Ansible"},
                    new String[] {"{s} are managed with {t} and changed through pull requests only",
                            "{s} are tagged with the team, the service and the cost centre",
                            "{s} are reviewed by the platform team when they cross {n} thousand euros a month",
                            "{s} exist in two regions and the failover is tested every {d} days",
                            "{s} are described in the platform handbook with their owner"},
                    new String[] {"plan {s} changes and attach the plan to the review", "tag {s} with an owner"},
                    new String[] {"click {s} together in the console", "open {s} to the whole internet"}),
            new Area("data",
                    new String[] {"analytics tables", "ETL jobs", "data contracts", "PII columns", "dbt models", "event tracking",
                            "warehouse costs", "data quality checks", "reports"},
                    new String[] {"dbt", "Airflow", "BigQuery", "Snowflake", "Great Expectations", "Looker"},
                    new String[] {"{s} are defined in {t} and reviewed like application code",
                            "{s} have an owner, a freshness target and a description of every column",
                            "{s} run their quality checks after every load and stop on failure",
                            "{s} keep raw, cleaned and reporting layers apart",
                            "{s} are documented in the catalogue before anyone builds a dashboard on them"},
                    new String[] {"pseudonymise {s} before they reach the warehouse", "check {s} after each load"},
                    new String[] {"copy {s} into spreadsheets", "join {s} on email addresses"}),
            new Area("mobile",
                    new String[] {"app releases", "push notifications", "offline storage", "deep links", "crash reports", "feature toggles",
                            "app permissions", "minimum OS versions"},
                    new String[] {"Firebase", "Fastlane", "Sentry", "TestFlight", "Crashlytics", "Detox"},
                    new String[] {"{s} go through {t} with staged rollout starting at {n} percent",
                            "{s} are supported for the last two major OS versions",
                            "{s} are reviewed by the product owner and the designer together",
                            "{s} are tracked in the release checklist",
                            "{s} work without a network and sync when the connection returns"},
                    new String[] {"ask for {s} at the moment they are needed", "test {s} on a low-end device"},
                    new String[] {"ship {s} that crash on start for more than a tenth of a percent", "track users in {s} without consent"}),
            new Area("documentation",
                    new String[] {"READMEs", "runbooks", "API guides", "onboarding notes", "architecture diagrams", "changelogs",
                            "decision records", "how-to pages"},
                    new String[] {"Backstage", "MkDocs", "Confluence", "Structurizr", "Mermaid", "Docusaurus"},
                    new String[] {"{s} live in the repository and are published with {t}",
                            "{s} are updated in the same pull request as the code they describe",
                            "{s} start with what the thing does and how to run it locally",
                            "{s} are reviewed every {d} days by the team that owns them",
                            "{s} use diagrams as code so that they can be diffed"},
                    new String[] {"keep {s} next to the code", "date {s} and name their owner"},
                    new String[] {"leave {s} that describe removed behaviour", "keep {s} only in a personal wiki space"}),
            new Area("git",
                    new String[] {"commit messages", "branch names", "merge commits", "tags", "signed commits", "large files",
                            "force pushes", "release branches"},
                    new String[] {"Git", "git-lfs", "commitlint", "pre-commit hooks", "GitHub", "Husky"},
                    new String[] {"{s} follow conventional commits and are checked by {t}",
                            "{s} reference the ticket key so history links to the discussion",
                            "{s} are kept small enough to revert one at a time",
                            "{s} are protected on main and release branches",
                            "{s} go through {t} before they are pushed"},
                    new String[] {"rebase {s} on main before merging", "sign {s} with your key"},
                    new String[] {"force push to shared {s}", "commit {s} with credentials in them"})};

    private static final String[] WHY = {
            "We decided this after {incident} cost us {n} hours last {season}.",
            "The reason is that {benefit}.",
            "This came out of the {season} retrospective, where {incident} was the top item.",
            "It means {benefit}, which matters more to us than a few minutes saved.",
            "Before this, {incident} happened about once a month.",
            "The decision record explains the trade-off: {benefit}, at the price of a little more ceremony.",
            "We chose this over the alternatives because {benefit}."};
    private static final String[] INCIDENTS = {"a failed release", "a slow incident response", "a data leak scare", "a broken nightly build",
            "an outage of the checkout", "a corrupted migration", "a lost afternoon of debugging", "a surprise cloud bill",
            "a customer escalation", "a week of flaky builds", "a rollback that took too long", "a confusing on-call handover"};
    private static final String[] BENEFITS = {"new people can find their way without asking", "reviews stay quick",
            "on-call engineers can act at night without context", "the audit finds what it looks for", "mistakes show up before production",
            "every team does it the same way", "the cost stays predictable", "customers see fewer errors",
            "changes can be reverted in minutes", "the history explains itself"};
    private static final String[] SCOPE = {
            "It applies to every service in the {team} area and to new repositories from day one.",
            "Legacy services follow it when they are next touched, not in a big-bang migration.",
            "Exceptions are written down in the repository's decision log with an end date.",
            "Prototypes and spikes are exempt until they take real traffic.",
            "It holds in {e} as well as in production.",
            "Vendor code and generated sources are out of scope.",
            "The same goes for scripts and internal tools, not only for customer-facing code."};
    private static final String[] ENFORCE = {
            "{t} checks it in the pipeline and links to this page when it fails.",
            "Reviewers look for it and point to this context in their comment.",
            "A template in the service starter kit does it right by default.",
            "The weekly report from {t} lists the places that drifted.",
            "A pre-commit hook catches most cases before they reach review.",
            "The platform team audits it twice a year."};
    private static final String[] OWNER = {
            "Questions go to the {team} channel.",
            "The {team} team owns this rule and revisits it in {q}.",
            "Ask {team} before proposing a change to it.",
            "Changes to this rule are proposed as an ADR and discussed in the {team} guild.",
            "It was last reviewed by {team} in {q}."};
    private static final String[] IMPORTANT = {
            "This is required for the {audit} audit.",
            "Every new service must follow it before its first release.",
            "It is important because {benefit}.",
            "Teams must fix deviations within {d} days.",
            "Following it is required before a service joins the on-call rotation."};
    private static final String[] TEAMS = {"platform", "payments", "identity", "search", "data", "mobile", "growth", "checkout",
            "developer experience", "security", "billing", "notifications"};
    private static final String[] ENVIRONMENTS = {"staging", "the preview environments", "the load-test cluster", "the sandbox",
            "the pre-production account"};
    private static final String[] QUARTERS = {"Q1", "Q2", "Q3", "Q4"};
    private static final String[] SEASONS = {"spring", "summer", "autumn", "winter"};
    private static final String[] AUDITS = {"SOC 2", "ISO 27001", "PCI DSS", "GDPR", "internal security"};

    private TeamRules() {
    }

    /**
     * @param count how many contexts
     * @param seed  the same seed gives the same contexts
     * @return {@code count} contexts, topics unique ({@code area-subject-0042})
     */
    static List<Rule> generate(int count, long seed) {
        Random random = new Random(seed);
        List<Rule> rules = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Area area = AREAS[random.nextInt(AREAS.length)];
            String subject = pick(random, area.subjects);
            String tool = pick(random, area.tools);
            double kind = random.nextDouble();
            String rule;
            if (kind < 0.10) {
                rule = "ALWAYS " + fill(pick(random, area.always), random, subject, tool) + ".";
            } else if (kind < 0.20) {
                rule = "NEVER " + fill(pick(random, area.never), random, subject, tool) + ".";
            } else {
                rule = capitalise(fill(pick(random, area.rules), random, subject, tool)) + ".";
            }
            boolean important = kind >= 0.20 && kind < 0.55;
            List<String> sentences = new ArrayList<>(List.of(rule,
                    fill(pick(random, WHY), random, subject, tool),
                    fill(pick(random, SCOPE), random, subject, tool),
                    fill(pick(random, ENFORCE), random, subject, tool),
                    fill(pick(random, OWNER), random, subject, tool)));
            if (important) {
                sentences.set(2 + random.nextInt(3), fill(pick(random, IMPORTANT), random, subject, tool));
            }
            String content = String.join(" ", sentences);
            String topic = String.format(Locale.ROOT, "%s-%s-%04d", area.name, subject.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
                    .replaceAll("(^-|-$)", ""), i + 1);
            rules.add(new Rule(topic, content, ImportLines.detectPriority(content), List.of(area.name)));
        }
        return rules;
    }

    private static String pick(Random random, String[] from) {
        return from[random.nextInt(from.length)];
    }

    private static String fill(String template, Random random, String subject, String tool) {
        return template.replace("{s}", subject)
                .replace("{t}", tool)
                .replace("{n}", Integer.toString(2 + random.nextInt(29)))
                .replace("{d}", Integer.toString(7 * (1 + random.nextInt(12))))
                .replace("{e}", pick(random, ENVIRONMENTS))
                .replace("{team}", pick(random, TEAMS))
                .replace("{q}", pick(random, QUARTERS))
                .replace("{season}", pick(random, SEASONS))
                .replace("{incident}", pick(random, INCIDENTS))
                .replace("{benefit}", pick(random, BENEFITS))
                .replace("{audit}", pick(random, AUDITS));
    }

    private static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
