package cloud.dementia.server.memory;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.tools.Json;

/**
 * A size budget for a result an assistant reads whole ({@code wake_up}, {@code check_contexts}): the result is cut in
 * steps, least useful first, until its compact JSON fits {@code max_chars}, and says what it left out.
 */
final class Budget {

    static final int DEFAULT_MAX_CHARS = 4000;
    static final int MIN_MAX_CHARS = 500;
    static final int MAX_MAX_CHARS = 200_000;
    /** A preview cut to this many characters when the budget is tight. */
    static final int SHORT_PREVIEW = 160;

    private final ObjectNode result;
    private final int maxChars;
    private final List<String> leftOut = new ArrayList<>();
    /** Once anything is cut, room is kept for the note that says what. */
    private boolean cutting;

    Budget(ObjectNode result, int maxChars) {
        this.result = result;
        this.maxChars = maxChars;
    }

    boolean fits() {
        int size = Json.compact(result).length();
        return cutting ? size + noteReserve() <= maxChars : size <= maxChars;
    }

    private int noteReserve() {
        return Math.min(600, maxChars / 3);
    }

    /** @return whether a step has work to do (and from now on keeps room for the note) */
    private boolean over() {
        if (fits()) {
            return false;
        }
        cutting = true;
        return !fits();
    }

    /**
     * Replaces a list by its size ({@code "<name>_count"}) when over budget, or when it holds fewer entries than
     * there are (the reader stopped at what could ever fit).
     *
     * @param total how many entries there are in all
     */
    void count(ObjectNode parent, String name, int total, String pointer) {
        JsonNode list = parent.get(name);
        if (list == null || !list.isArray() || total == 0 || list.size() >= total && !over()) {
            return;
        }
        cutting = true;
        parent.remove(name);
        parent.put(name + "_count", total);
        leftOut.add(total + " " + name.replace('_', ' ') + " (" + pointer + ")");
    }

    /** Shortens the previews (and contents) of a list's entries when over budget, pointing to where the rest is. */
    void shorten(ArrayNode list) {
        if (!over()) {
            return;
        }
        int shortened = 0;
        for (JsonNode item : list) {
            if (item instanceof ObjectNode o) {
                for (String field : List.of("content", "preview")) {
                    JsonNode v = o.get(field);
                    if (v != null && v.isTextual() && v.asText().length() > SHORT_PREVIEW) {
                        o.remove(field);
                        o.put("preview", cut(v.asText()));
                        o.put("cut", true);
                        shortened++;
                    }
                }
            }
        }
        if (shortened > 0) {
            leftOut.add("the rest of " + shortened + " long text(s) (recall_context(topic) reads one whole)");
        }
    }

    /** Drops entries from the end of a list while over budget. */
    void dropFromEnd(ArrayNode list, String what, String pointer) {
        dropFromEnd(list, what, list.size(), pointer);
    }

    /**
     * Drops entries from the end of a list while over budget.
     *
     * @param total how many entries there are in all (the list may hold only the first of them)
     */
    void dropFromEnd(ArrayNode list, String what, int total, String pointer) {
        int missing = total - list.size();
        int dropped = 0;
        if (over()) {
            // one measure of the whole, then each entry's own size: measuring the whole after each drop costs the square
            int size = Json.compact(result).length() + noteReserve();
            while (list.size() > 1 && size > maxChars) {
                size -= Json.compact(list.remove(list.size() - 1)).length() + 1;
                dropped++;
            }
        }
        while (!list.isEmpty() && over()) {
            list.remove(list.size() - 1);
            dropped++;
        }
        if (dropped + missing > 0) {
            leftOut.add((dropped + missing) + " " + what + " (" + pointer + ")");
        }
    }

    /**
     * Cuts an object down while over budget: its fields in the order given are dropped one by one, then the last one
     * kept is shortened; the note says where the whole is.
     *
     * @param fields the fields least needed first; the last one is shortened rather than dropped
     */
    void trim(ObjectNode parent, String name, List<String> fields, String what, String pointer) {
        JsonNode node = parent.get(name);
        if (!(node instanceof ObjectNode o) || !over()) {
            return;
        }
        List<String> dropped = new ArrayList<>();
        for (int i = 0; i < fields.size() - 1 && over(); i++) {
            if (o.remove(fields.get(i)) != null) {
                dropped.add(fields.get(i));
            }
        }
        String last = fields.get(fields.size() - 1);
        JsonNode text = o.get(last);
        if (over() && text != null && text.isTextual() && text.asText().length() > SHORT_PREVIEW) {
            o.put(last, cut(text.asText()));
            dropped.add("the rest of its " + last);
        }
        if (!dropped.isEmpty()) {
            leftOut.add(what + ": " + String.join(", ", dropped) + " (" + pointer + ")");
        }
    }

    /** Writes what was left out, if anything, into the result. */
    ObjectNode finish() {
        if (!leftOut.isEmpty()) {
            result.put("left_out", "to stay within max_chars=" + maxChars + ": " + String.join("; ", leftOut));
            if (Json.compact(result).length() > maxChars) {
                result.put("left_out", "some of this was left out to stay within max_chars=" + maxChars);
            }
        }
        return result;
    }

    private static String cut(String text) {
        int end = text.lastIndexOf(' ', SHORT_PREVIEW);
        return text.substring(0, end > SHORT_PREVIEW / 2 ? end : SHORT_PREVIEW) + "…";
    }
}
