package cloud.dementia.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import io.helidon.logging.common.LogConfig;

import sun.misc.Signal;

import cloud.dementia.db.store.ApiKeyStore;
import cloud.dementia.db.store.CredentialStore;
import cloud.dementia.db.store.StoreRuleException;
import cloud.dementia.server.auth.Secrets;
import cloud.dementia.server.importer.OriginalImporter;

/**
 * Starts Dementia Cloud. Configuration comes from the environment (docs/configuration.md). A bad value or an
 * unreachable database ends the process with one line on stderr and a non-zero exit (2: configuration, 3: database).
 * SIGTERM and SIGINT stop it gracefully with exit 0.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        if (args.length > 0 && args[0].equals("import-original")) {
            importOriginal(args);
            return;
        }
        if (args.length > 0 && args[0].equals("reset-credentials")) {
            resetCredentials(args);
            return;
        }
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

    /**
     * {@code import-original --from <postgres URL> --schema <name> --project <name>}: imports a project of the original
     * Python server into this server's database (the one {@code DATABASE_URL} or {@code DEMENTIA_DATA_DIR} names),
     * prints what it read and added, and exits: 0 done, 2 bad arguments, 3 a database that cannot be read.
     */
    private static void importOriginal(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                fail(2, "import-original: expected --from <postgres URL> --schema <name> --project <name>, got `" + args[i] + "`");
                return;
            }
            options.put(args[i].substring(2), args[++i]);
        }
        for (String required : List.of("from", "schema", "project")) {
            if (!options.containsKey(required)) {
                fail(2, "import-original: --" + required + " is required (--from <postgres URL> --schema <name> --project <name>)");
                return;
            }
        }
        Database database = openForCommand(commandSettings());
        try {
            OriginalImporter.Report report = OriginalImporter.run(database.registry(), options.get("from"), options.get("schema"),
                    options.get("project"));
            System.out.println("imported schema " + options.get("schema") + " into project " + options.get("project") + ":");
            System.out.print(report.describe());
            System.out.flush();
        } catch (IllegalArgumentException | StoreRuleException e) {
            database.close();
            fail(e instanceof IllegalArgumentException && e.getMessage().startsWith("reading the original") ? 3 : 2, "import-original: " + e.getMessage());
            return;
        }
        database.close();
        System.exit(0);
    }

    /**
     * {@code reset-credentials}: a lost API key or console password. Generates a new API key and console password for
     * the database this configuration names, replaces the generated key's hash (the old key is refused from the next
     * request on, on every running replica) and the console user's password hash (and signs every console session out),
     * prints the new secrets once, and exits 0 (2 bad arguments or configuration, 3 a database that cannot be reached).
     * When the servers take their keys from {@code DEMENTIA_API_KEY(S)} no key is generated: a new one would be dropped
     * at their next start. A password given in {@code DEMENTIA_ADMIN_PASSWORD} is not stored: change it there.
     */
    private static void resetCredentials(String[] args) {
        if (args.length > 1) {
            fail(2, "reset-credentials takes no arguments (it resets the stored API key and console password), got `" + args[1] + "`");
            return;
        }
        Settings settings = commandSettings();
        Database database = openForCommand(settings);
        ApiKeyStore keys = new ApiKeyStore(database.registry());
        Optional<String> key = Optional.empty();
        if (!keys.environmentKeysInUse()) {
            key = Optional.of(Secrets.newApiKey());
            keys.replaceGeneratedKey(Secrets.hashApiKey(key.get()), Secrets.hint(key.get()), "reset-credentials");
        }
        String password = Secrets.newPassword();
        new CredentialStore(database.registry()).replaceAdminHash(settings.adminUser(), Secrets.hashPassword(password));
        database.close();
        StringBuilder out = new StringBuilder("New secrets, shown once and stored only as hashes. Keep them now.\n");
        key.ifPresentOrElse(k -> out.append("  API key:       ").append(k).append('\n'),
                () -> out.append("  API key:       unchanged: the servers take their keys from DEMENTIA_API_KEY(S) (change it there and restart"
                        + " them), or create one in the console (/admin/keys)\n"));
        out.append("  Console login: ").append(settings.adminUser()).append(" / ").append(password).append('\n');
        key.ifPresent(k -> out.append("The old API key is refused from the next request on, by every running server.\n"));
        out.append("Running servers take the new console password once restarted (restart every replica now); every console session "
                + "is signed out.\n");
        if (settings.adminPassword().isPresent()) {
            out.append("Note: DEMENTIA_ADMIN_PASSWORD is set, and wins over the stored password: change it there.\n");
        }
        System.out.print(out);
        System.out.flush();
        System.exit(0);
    }

    /**
     * The database a command works on, and nothing else: no HTTP server (a command needs no free port) and no embedding
     * model; exits 3 when it cannot be opened, for instance while a server runs on the same embedded data directory.
     */
    private static Database openForCommand(Settings settings) {
        try {
            return Database.open(settings, new SimpleMeterRegistry());
        } catch (StartupException e) {
            fail(e.exitCode(), e.getMessage());
            throw e;
        }
    }

    /** The configuration of a command: the environment's, but no port of its own (a command serves nothing). */
    private static Settings commandSettings() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PORT", "0");
        try {
            return Settings.load(env);
        } catch (ConfigException e) {
            fail(2, e.getMessage());
            throw e;
        }
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
