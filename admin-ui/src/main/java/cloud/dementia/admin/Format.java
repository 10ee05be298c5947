package cloud.dementia.admin;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** How the pages write times, durations and links (the templates call it as {@code fmt}). */
public final class Format {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /** @return {@code 12 s ago}, {@code 3 min ago}, or {@code never} */
    public String ago(Instant t) {
        if (t == null) {
            return "never";
        }
        long ms = Duration.between(t, Instant.now()).toMillis();
        return ms < 1000 ? "just now" : duration(ms) + " ago";
    }

    /** @return {@code in 42 s}, {@code running about now}, or nothing when there is no time */
    public String until(Instant t) {
        if (t == null) {
            return "";
        }
        long ms = Duration.between(Instant.now(), t).toMillis();
        return ms > 0 ? "in " + duration(ms) : "running about now";
    }

    /** @return {@code 850 ms}, {@code 14 s}, {@code 2 min 5 s}, {@code 1 h 2 min} */
    public static String duration(long ms) {
        if (ms < 1000) {
            return Math.max(0, ms) + " ms";
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return (s / 60) + " min" + (s % 60 == 0 ? "" : " " + (s % 60) + " s");
        }
        long m = s / 60;
        return (m / 60) + " h" + (m % 60 == 0 ? "" : " " + (m % 60) + " min");
    }

    public String durationMs(Long ms) {
        return ms == null ? "" : duration(ms);
    }

    /** @return {@code 13:45:02 UTC} today, with the date before it otherwise */
    public String time(Instant t) {
        if (t == null) {
            return "";
        }
        boolean today = t.atZone(ZoneOffset.UTC).toLocalDate().equals(Instant.now().atZone(ZoneOffset.UTC).toLocalDate());
        return (today ? TIME.format(t) : DAY_TIME.format(t)) + " UTC";
    }

    public String iso(Instant t) {
        return t == null ? "" : t.toString();
    }

    /** @return the console path of a pool's page */
    public String poolUrl(String schema) {
        return "/admin/pools/" + URLEncoder.encode(schema, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** @return the path of a pool action */
    public String actionUrl(String schema, String action) {
        return poolUrl(schema) + "/" + action;
    }

    /** @return a size in bytes as people read it: 512 B, 1.5 kB, 3.2 MB, 4.0 GB */
    public String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    public String join(List<String> parts) {
        return parts == null ? "" : String.join("; ", parts);
    }
}
