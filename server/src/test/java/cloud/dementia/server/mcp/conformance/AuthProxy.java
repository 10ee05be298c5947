package cloud.dementia.server.mcp.conformance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ops/clients/auth-proxy.mjs} in front of a server that needs a key: the conformance suite cannot send one.
 */
final class AuthProxy implements AutoCloseable {

    private final Process process;
    private final int port;

    private AuthProxy(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static AuthProxy start(String upstream, String authorization) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(ConformanceSuite.NODE.toString(), "auth-proxy.mjs"))
                .directory(ConformanceSuite.CLIENTS.toFile()).redirectErrorStream(true);
        pb.environment().put("AUTH", authorization);
        pb.environment().put("UPSTREAM", upstream);
        pb.environment().put("LISTEN_PORT", "0");
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (java.io.IOException e) {
                return null;
            }
        });
        String line = first.get(30, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(line == null ? "" : line);
        if (!m.find()) {
            p.destroyForcibly();
            throw new AssertionError("auth-proxy.mjs did not start: " + line);
        }
        // keep reading, so that the proxy never blocks on a full pipe
        Thread.ofVirtual().start(() -> {
            try {
                while (out.readLine() != null) {
                    // dropped
                }
            } catch (java.io.IOException e) {
                // ended
            }
        });
        return new AuthProxy(p, Integer.parseInt(m.group(1)));
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
