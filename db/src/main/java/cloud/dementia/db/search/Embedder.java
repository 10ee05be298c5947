package cloud.dementia.db.search;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a text into a vector whose cosine to another text's says how close their meanings are (for search by meaning).
 * The model runs in the server process; the store keeps the vectors ({@code context_locks.embedding}).
 */
public interface Embedder {

    /** @return the text's vector */
    float[] embed(String text);

    /** @return the texts' vectors, in order; a model that batches does it in fewer runs */
    default List<float[]> embedAll(List<String> texts) {
        List<float[]> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(embed(t));
        }
        return out;
    }

    /** @return the model's name, for logs and README */
    String name();

    /** @return what a context's vector is computed from: its topic (as words) and its content */
    static String contextText(String label, String content) {
        return label.replace('_', ' ') + ". " + content;
    }
}
