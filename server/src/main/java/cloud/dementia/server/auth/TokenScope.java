package cloud.dementia.server.auth;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What an OAuth access token's scopes let it do, in the terms of an API key's scope ({@link Caller}):
 * <ul>
 * <li>{@value #READ}: read only, as a read-only key;</li>
 * <li>{@value #WRITE}: read and write (it implies {@value #READ});</li>
 * <li>{@code project:<name>} or {@code project:<prefix>*}, any number of them: only those projects, as a key's project
 * list; none means every project.</li>
 * </ul>
 * A token with neither {@value #READ} nor {@value #WRITE} reaches nothing; other scopes are ignored, so one
 * authorization server can serve other resources too.
 *
 * @param write    whether the token may change data
 * @param projects empty for every project; otherwise project names, or prefixes ending in {@code *}
 */
public record TokenScope(boolean write, List<String> projects) {

    public static final String READ = "memory:read";
    public static final String WRITE = "memory:write";
    public static final String PROJECT = "project:";
    /** What {@code /.well-known/oauth-protected-resource} lists: {@code project:} scopes are a pattern, not a list. */
    public static final List<String> SUPPORTED = List.of(READ, WRITE);

    public TokenScope {
        projects = List.copyOf(projects);
    }

    /**
     * @param granted the token's scope values
     * @return the scope, or empty when the token grants neither {@value #READ} nor {@value #WRITE}
     */
    public static Optional<TokenScope> of(Collection<String> granted) {
        boolean write = granted.contains(WRITE);
        if (!write && !granted.contains(READ)) {
            return Optional.empty();
        }
        List<String> projects = new ArrayList<>();
        for (String scope : granted) {
            // an empty `project:` stays, as a project no name matches: a malformed scope must not widen the token to every project
            if (scope.startsWith(PROJECT)) {
                projects.add(scope.substring(PROJECT.length()));
            }
        }
        return Optional.of(new TokenScope(write, projects));
    }
}
