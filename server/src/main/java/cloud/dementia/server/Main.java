package cloud.dementia.server;

import io.helidon.logging.common.LogConfig;

import sun.misc.Signal;

/**
 * Starts Dementia Cloud. Configuration comes from the environment (README.md, "Configuration"). A bad value or an
 * unreachable database ends the process with one line on stderr and a non-zero exit (2: configuration, 3: database).
 * SIGTERM and SIGINT stop it gracefully with exit 0.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        DementiaServer server;
        try {
            server = DementiaServer.start(Settings.load(System.getenv()));
        } catch (ConfigException e) {
            fail(2, e.getMessage());
            return;
        } catch (StartupException e) {
            fail(e.exitCode(), e.getMessage());
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "dementia-shutdown"));
        // A requested stop is a normal end: stop in order while logging still works, then exit 0 (the JVM's own
        // SIGTERM handling would exit 143). The shutdown hook covers any other way the JVM ends.
        Signal.handle(new Signal("TERM"), signal -> stopAndExit(server));
        Signal.handle(new Signal("INT"), signal -> stopAndExit(server));
        server.printWelcome(System.out);
        // keep the JVM alive until the stop has finished: the web server's threads end before the pools are closed
        server.awaitStopped();
    }

    private static void stopAndExit(DementiaServer server) {
        server.stop();
        System.exit(0);
    }

    private static void fail(int code, String message) {
        System.err.println("dementia: " + message);
        System.err.flush();
        System.exit(code);
    }
}
