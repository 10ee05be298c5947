package cloud.dementia.bench;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A project as the server's export writes it (JSON Lines, format 1, see the server's
 * {@code db/src/main/java/cloud/dementia/db/store/ProjectTransfer.java}): the header line, then one {@code context}
 * line per topic with what a lock derives from the text (content hash, preview, key concepts, priority), copied here
 * from {@code ContextText} so that an imported context looks like a locked one.
 */
final class ImportLines {

    static final ObjectMapper JSON = JsonMapper.builder().build();

    /** A project built for the scale scenario: its lines, and the contexts in them. */
    record Project(String name, String jsonl, List<TeamRules.Rule> contexts) {
    }

    private ImportLines() {
    }

    /**
     * {@code count} contexts: generated team rules from the seed, with the 30 rules of the {@link EvaluationSet} spread
     * evenly among them (under their own topics) when {@code count} is at least 30.
     */
    static Project project(String name, int count, long seed) {
        List<TeamRules.Rule> contexts = new ArrayList<>(TeamRules.generate(Math.max(0, count - EvaluationSet.CASES.size()), seed));
        List<EvaluationSet.Case> cases = EvaluationSet.CASES;
        if (count >= cases.size()) {
            for (int i = 0; i < cases.size(); i++) {
                EvaluationSet.Case c = cases.get(i);
                contexts.add((int) ((long) i * count / cases.size()), new TeamRules.Rule(c.topic(), c.rule(), detectPriority(c.rule()), List.of()));
            }
        } else {
            contexts = new ArrayList<>(TeamRules.generate(count, seed));
        }
        Random random = new Random(seed ^ 0x5DEECE66DL);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        StringBuilder out = new StringBuilder(count * 1400);
        ObjectNode header = JSON.createObjectNode().put("kind", "dementia-project").put("format", 1).put("project", name)
                .put("exported_at", now.toString());
        out.append(JSON.writeValueAsString(header)).append('\n');
        for (TeamRules.Rule r : contexts) {
            ObjectNode line = JSON.createObjectNode();
            line.put("kind", "context");
            var tags = line.putArray("tags");
            r.tags().forEach(tags::add);
            line.put("label", r.topic());
            line.put("minor", 0);
            line.put("content", r.content());
            line.put("preview", preview(r.content()));
            line.put("version", "1.0");
            line.put("priority", r.priority());
            line.put("locked_at", now.minusSeconds(random.nextInt(365 * 24 * 3600)).toString());
            line.putNull("session_id");
            line.put("access_count", 0);
            line.put("content_hash", hash(r.content()));
            var concepts = line.putArray("key_concepts");
            keyConcepts(r.content()).forEach(concepts::add);
            line.putNull("last_accessed");
            out.append(JSON.writeValueAsString(line)).append('\n');
        }
        return new Project(name, out.toString(), contexts);
    }

    // ---------------------------------------------------------------- copied from the server's ContextText

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

    static String detectPriority(String content) {
        if (ALWAYS.matcher(content).find()) {
            return "always_check";
        }
        if (IMPORTANT_WORDS.matcher(content).find()) {
            return "important";
        }
        return "reference";
    }

    static String preview(String content) {
        String flat = content.strip();
        if (flat.length() <= PREVIEW) {
            return flat;
        }
        int cut = flat.lastIndexOf(' ', PREVIEW);
        return flat.substring(0, cut > PREVIEW / 2 ? cut : PREVIEW) + "...";
    }

    static List<String> keyConcepts(String content) {
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

    static String hash(String content) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
