package cloud.dementia.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The project version the build wrote into {@code version.properties}, as MCP clients see it in {@code serverInfo}. */
public final class ProjectVersion {

    private static final String VERSION = load();

    private ProjectVersion() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = ProjectVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
