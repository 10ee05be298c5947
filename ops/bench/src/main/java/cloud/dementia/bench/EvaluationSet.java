package cloud.dementia.bench;

import java.util.List;

/**
 * The evaluation set of search by meaning (#10), copied from the server's
 * {@code server/src/test/java/cloud/dementia/server/search/SearchEvaluationTest.java}: 30 realistic rules under their
 * topics, and for each a question a developer would ask in other words than the rule's. The scale scenario embeds the
 * rules among its generated contexts and asks the questions; a question is answered when its topic is in the top 3.
 * Keep it in step with the test when that changes.
 */
final class EvaluationSet {

    /** topic, rule, and a question about it in other words. */
    record Case(String topic, String rule, String question) {
    }

    static final List<Case> CASES = List.of(
            new Case("api-errors", "Endpoints answer errors as application/problem+json with a type URI, a title and the request id; never a bare 500 page.",
                    "how do we report errors from the API"),
            new Case("db-migrations", "Schema changes go through Flyway migrations in db/migration; a migration is never edited after it is merged.",
                    "can I change an old migration file"),
            new Case("secrets", "Secrets come from the vault at start; they are never written to logs, configs in git or error messages.",
                    "where should passwords and tokens be stored"),
            new Case("logging", "Log one line per event in logfmt with the request id; use WARN only for things an operator must look at.",
                    "what format should log lines have"),
            new Case("time-zones", "Store timestamps in UTC as timestamptz; convert to the user's zone only in the UI.",
                    "which timezone do we save dates in"),
            new Case("feature-flags", "New behaviour ships behind a feature flag in LaunchDarkly and is removed within two releases after full rollout.",
                    "how do we roll out something risky gradually"),
            new Case("code-review", "Every pull request needs one approval and a green pipeline; the author merges with squash.",
                    "who is allowed to merge a PR and when"),
            new Case("testing-network", "Unit tests never call the network; use the fakes in test/support and record fixtures for HTTP clients.",
                    "may a test hit an external service"),
            new Case("dependency-updates", "Renovate opens dependency updates weekly; patch updates auto-merge, majors need a ticket.",
                    "how are library upgrades handled"),
            new Case("pagination", "List endpoints paginate with an opaque cursor and a limit of at most 100; never offset paging.",
                    "how should a list endpoint return many items"),
            new Case("naming", "Database columns are snake_case, JSON fields camelCase, URLs and file names kebab-case.",
                    "what case convention for field names"),
            new Case("release-process", "Releases are cut on Tuesdays from main with a semver tag; notes come from conventional commits.",
                    "which day do we ship a new version"),
            new Case("on-call", "On-call rotates weekly; database pages go to the platform team before the product team.",
                    "who gets woken up when postgres is down"),
            new Case("retries", "Clients retry idempotent requests with exponential backoff and jitter, at most 3 times; never retry a POST without an idempotency key.",
                    "what should happen when a call to another service fails"),
            new Case("caching", "Cache only GET responses with explicit Cache-Control; user-specific data is private, no-store.",
                    "can we put personal data in the CDN cache"),
            new Case("authz", "Authorization checks happen in the service layer with the policy engine, never only in the frontend.",
                    "where do we verify that a user may do something"),
            new Case("money", "Amounts are integers in minor units (cents) with an ISO currency code; never floating point.",
                    "how to represent prices"),
            new Case("i18n", "User-facing text goes through the translation catalog; no string literals in components.",
                    "how do I add a label the user sees in several languages"),
            new Case("accessibility", "Every interactive element is reachable by keyboard and has an accessible name; contrast meets WCAG AA.",
                    "what do buttons need for screen readers"),
            new Case("frontend-state", "Shared state lives in the store; components keep only local UI state in hooks.",
                    "where should data used by several screens be kept"),
            new Case("queue-consumers", "Queue consumers are idempotent and acknowledge a message only after the work is committed.",
                    "what if the same message is delivered twice"),
            new Case("api-versioning", "Breaking API changes get a new /v2 path; old versions live for six months after deprecation.",
                    "how do we change an endpoint without breaking clients"),
            new Case("data-retention", "Personal data is deleted 30 days after account closure; backups expire after 35 days.",
                    "how long do we keep a deleted user's information"),
            new Case("incident-postmortems", "Every sev1 or sev2 incident gets a blameless postmortem within five working days.",
                    "what do we write after a big outage"),
            new Case("performance-budget", "Pages load in under two seconds on a mid-range phone; the bundle stays under 200 KB gzipped.",
                    "how fast must the web app be"),
            new Case("sql-style", "Queries use bind parameters; building SQL by concatenating user input is forbidden.",
                    "how to avoid injection in database calls"),
            new Case("docker-images", "Images build from the distroless base, run as non-root, and are pinned by digest.",
                    "what base should our containers use"),
            new Case("branching", "Trunk-based development: short-lived branches off main, merged within two days.",
                    "how long can my feature branch live"),
            new Case("observability", "Every service exports RED metrics and traces with OpenTelemetry; dashboards live in Grafana.",
                    "how do we monitor a new microservice"),
            new Case("documentation", "Architecture decisions are recorded as ADRs in docs/adr; the README says how to run and test.",
                    "where do we write down why we chose something"));

    private EvaluationSet() {
    }
}
