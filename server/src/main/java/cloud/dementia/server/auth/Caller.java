package cloud.dementia.server.auth;

import java.util.List;

/**
 * Who a request came from, as its API key says: which projects the key reaches and whether it may change anything.
 * {@code DEMENTIA_API_KEY(S)} and the generated first-start key reach everything; keys operators create have the scope
 * they were given.
 *
 * @param owner    what owns the sessions this key opens ({@code key:<name>} for a created key, {@code env:<hash prefix>} for the
 *                 others), so another key cannot act as them
 * @param keyName  the key's name, for messages and logs
 * @param projects empty for every project; otherwise project names, or prefixes ending in {@code *}
 * @param readOnly whether the key may only read
 */
public record Caller(String owner, String keyName, List<String> projects, boolean readOnly) {

    /** In-process calls (tests, the benchmark's direct calls): every project, read-write. */
    public static final Caller TRUSTED = new Caller("internal", "internal", List.of(), false);

    public Caller {
        projects = List.copyOf(projects);
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
