package cloud.dementia.db.store;

/**
 * Turns a text into a vector whose cosine to another text's says how close their meanings are (for search by meaning).
 * The model runs in the server process; the store keeps the vectors ({@code context_locks.embedding}).
 */
public interface Embedder {

    /** @return the text's vector, unit length */
    float[] embed(String text);

    /** @return the model's name, for logs and README */
    String name();
}
