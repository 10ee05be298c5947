package cloud.dementia.server;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The built jar run as the README says ({@code java -jar server/target/dementia-server.jar}, no options, the embedded
 * database): the first start prints the welcome text, and neither it nor the embedding model's first use prints
 * anything that looks like trouble. {@code mvn verify} runs it once the jar is built; alone, after
 * {@code mvn -B -q -DskipTests package}: {@code mvn -B verify -Dtest=PackagedJarTest}.
 */
class PackagedJarTest {

    static final Duration START = Duration.ofSeconds(90);
    static final List<String> ALARMING = List.of("WARNING", "SEVERE", "CUDA", "Exception", "\tat ");

    @Test
    void aFirstStartAndTheModelsFirstUsePrintNothingAlarming() throws Exception {
        Path jar = Path.of(System.getProperty("dementia.jar", "target/dementia-server.jar"));
        Assumptions.assumeTrue(Files.isRegularFile(jar), jar + " is not built: mvn -B -q -DskipTests package");
        Path dataDir = Files.createTempDirectory("dementia-jar");
        try (ServerProcess p = ServerProcess.startJar(jar, Map.of("PORT", "0", "DEMENTIA_DATA_DIR", dataDir.toString()))) {
            p.awaitReady(START);
            String key = p.printed("API key:").orElseThrow(() -> new AssertionError("the first start prints the key"));
            assertThat(p.stdout(), containsString("Dementia Cloud is running."));
            // the model loads when it first has work: a context to embed, a question to search by meaning
            HttpResponse<String> locked = p.post("/execute", "{\"tool\":\"lock_context\",\"arguments\":{\"topic\":\"style\","
                    + "\"content\":\"We always use tabs.\"}}", key);
            assertEquals(200, locked.statusCode(), locked.body());
            HttpResponse<String> found = p.post("/execute", "{\"tool\":\"search_contexts\",\"arguments\":{\"query\":\"indentation\"}}", key);
            assertEquals(200, found.statusCode(), found.body());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!p.stdout().contains("embedding model all-MiniLM-L6-v2 (quantized) loaded") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat("the model was loaded", p.stdout(), containsString("embedding model all-MiniLM-L6-v2 (quantized) loaded"));
            assertEquals(0, p.terminate(START));
            String output = "stdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr();
            assertEquals("", p.stderr().strip(), "nothing on stderr\n" + output);
            for (String line : p.stdout().lines().toList()) {
                for (String alarming : ALARMING) {
                    if (line.contains(alarming)) {
                        throw new AssertionError("`" + alarming + "` in: " + line + "\n" + output);
                    }
                }
            }
        }
    }
}
