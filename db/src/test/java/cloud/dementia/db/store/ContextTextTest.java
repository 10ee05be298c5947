package cloud.dementia.db.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * #10: priority detection was too eager (any "must" or "never" made a rule {@code always_check}: 3 of 4 realistic rules).
 * Only explicit markers make one now.
 */
class ContextTextTest {

    @Test
    void onlyExplicitMarkersMakeARuleAlwaysCheck() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("ALWAYS run the migrations in a transaction.", ContextText.ALWAYS_CHECK);
        expected.put("Secrets are NEVER logged, not even masked.", ContextText.ALWAYS_CHECK);
        expected.put("Never commit to main directly.", ContextText.ALWAYS_CHECK);
        expected.put("Always write tests first.", ContextText.ALWAYS_CHECK);
        expected.put("Reviews:\n- never merge your own pull request\n- keep them small", ContextText.ALWAYS_CHECK);
        expected.put("1. Never use eval.", ContextText.ALWAYS_CHECK);
        expected.put("Handlers must always close their streams.", ContextText.ALWAYS_CHECK);
        // what used to land there and should not
        expected.put("We always use tabs for indentation.", ContextText.REFERENCE);
        expected.put("The API must return problem+json on errors.", ContextText.IMPORTANT);
        expected.put("We never deploy on Fridays unless the on-call agrees.", ContextText.REFERENCE);
        expected.put("Config is required at start; the server never guesses.", ContextText.IMPORTANT);
        expected.put("Logging goes through JUL with one line per event.", ContextText.REFERENCE);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), ContextText.detectPriority(e.getKey()), e.getKey());
        }
    }
}
