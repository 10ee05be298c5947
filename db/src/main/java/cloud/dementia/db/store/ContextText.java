package cloud.dementia.db.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the original server derived from a context's text: priority, preview, key concepts, content hash. */
public final class ContextText {

    public static final String ALWAYS_CHECK = "always_check";
    public static final String IMPORTANT = "important";
    public static final String REFERENCE = "reference";
    public static final Set<String> PRIORITIES = Set.of(ALWAYS_CHECK, IMPORTANT, REFERENCE);

    /**
     * Explicit markers of a rule to check every time: ALWAYS or NEVER in capitals, "must always" / "must never", or a rule
     * (the text, or one of its lines or bullets) that starts with "always" or "never".
     */
    private static final Pattern ALWAYS = Pattern.compile(
            "\\b(ALWAYS|NEVER)\\b|(?i:\\bmust\\s+(always|never)\\b)|(?im:^\\s*(?:[-*+•]|\\d+[.)])?\\s*(always|never)\\b)");
    private static final Pattern IMPORTANT_WORDS = Pattern.compile("\\b(important|critical|required|must)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern WORD = Pattern.compile("[A-Za-z][A-Za-z0-9_\\-]{3,}");
    private static final Set<String> STOP = Set.of("this", "that", "with", "from", "have", "will", "would", "should", "could", "must",
            "never", "always", "when", "then", "than", "they", "them", "their", "there", "here", "what", "which", "where", "your",
            "into", "each", "every", "also", "only", "just", "more", "most", "some", "such", "been", "were", "does", "done",
            "about", "after", "before", "other", "these", "those", "because", "while", "being", "important", "critical",
            "required", "using", "used", "use", "make", "made", "like", "need", "needs", "over", "under", "very");
    private static final int PREVIEW = 500;

    private ContextText() {
    }

    /**
     * Conservative: {@code always_check} only for explicit markers (see {@link #ALWAYS}); important, critical, required or
     * must anywhere -> {@code important}; else {@code reference}. A caller who knows better passes {@code priority}.
     */
    public static String detectPriority(String content) {
        if (ALWAYS.matcher(content).find()) {
            return ALWAYS_CHECK;
        }
        if (IMPORTANT_WORDS.matcher(content).find()) {
            return IMPORTANT;
        }
        return REFERENCE;
    }

    /** About 500 characters, cut at a word boundary. */
    public static String preview(String content) {
        String flat = content.strip();
        if (flat.length() <= PREVIEW) {
            return flat;
        }
        int cut = flat.lastIndexOf(' ', PREVIEW);
        return flat.substring(0, cut > PREVIEW / 2 ? cut : PREVIEW) + "...";
    }

    /** Up to 10 key concepts: the most frequent longer words that are not filler, first seen first on ties. */
    public static List<String> keyConcepts(String content) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Matcher m = WORD.matcher(content);
        while (m.find()) {
            String w = m.group().toLowerCase(Locale.ROOT);
            if (!STOP.contains(w)) {
                counts.merge(w, 1, Integer::sum);
            }
        }
        return counts.entrySet().stream()
                .sorted((a, b) -> Integer.compare(b.getValue(), a.getValue()))
                .limit(10)
                .map(Map.Entry::getKey)
                .toList();
    }

    /** First 16 hex characters of the SHA-256 of the content. */
    public static String hash(String content) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
