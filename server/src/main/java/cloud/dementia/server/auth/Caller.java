package cloud.dementia.server.auth;

import java.util.List;

/**
 * Who a request came from, as its API key or OAuth access token says: which projects it reaches and whether it may
 * change anything. {@code DEMENTIA_API_KEY(S)} and the generated first-start key reach everything; keys operators
 * create have the scope they were given; a token has the scope its {@code scope} claim grants ({@link TokenScope}).
 *
 * @param owner    what owns the sessions this key opens ({@code key:<name>} for a created key, {@code env:<hash prefix>} for the
 *                 others, {@code oauth:<sub>} for a token's user), so another key cannot act as them
 * @param keyName  the key's name (a token's {@code sub}), for messages and logs
 * @param projects empty for every project; otherwise project names, or prefixes ending in {@code *}
 * @param readOnly whether the key may only read
 */
public record Caller(String owner, String keyName, List<String> projects, boolean readOnly) {

    /** In-process calls (tests, the benchmark's direct calls): every project, read-write. */
    public static final Caller TRUSTED = new Caller("internal", "internal", List.of(), false);

    /** Any read-only caller, for what depends only on that (the tools it is shown). */
    public static final Caller READ_ONLY = new Caller("internal-reader", "internal-reader", List.of(), true);

    /** Owner prefix of a token's user: their sessions are theirs whichever of their tokens presents them. */
    static final String TOKEN_OWNER = "oauth:";

    public Caller {
        projects = List.copyOf(projects);
    }

    /** @return the caller of a verified access token of user {@code subject} */
    static Caller ofToken(String subject, TokenScope scope) {
        return new Caller(TOKEN_OWNER + subject, subject, scope.projects(), !scope.write());
    }

    /** @return what the caller presented, for refusals: {@code the API key `ci`} or {@code the OAuth token of `alice`} */
    public String credential() {
        return (owner.startsWith(TOKEN_OWNER) ? "the OAuth token of `" : "the API key `") + keyName + "`";
    }

    /** @return whether the key reaches every project */
    public boolean allProjects() {
        return projects.isEmpty();
    }

    /** @return whether the key reaches the project of this name (existing or not) */
    public boolean mayReach(String project) {
        if (projects.isEmpty()) {
            return true;
        }
        for (String p : projects) {
            if (p.endsWith("*") ? project.startsWith(p.substring(0, p.length() - 1)) : project.equals(p)) {
                return true;
            }
        }
        return false;
    }

    /** @return the scope in words, for refusals: {@code every project} or {@code a, team-*} */
    public String scope() {
        return projects.isEmpty() ? "every project" : String.join(", ", projects);
    }
}
