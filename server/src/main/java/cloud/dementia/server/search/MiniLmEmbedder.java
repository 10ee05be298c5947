package cloud.dementia.server.search;

import java.util.logging.Logger;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

import cloud.dementia.db.store.Embedder;

/**
 * all-MiniLM-L6-v2 (quantized, 384 dimensions) on ONNX Runtime, in the server process: the model ships in its jar,
 * nothing goes over the network. Loaded once, on first use, and shared ({@link #shared()}); it is thread-safe.
 * {@code DEMENTIA_EMBEDDINGS=off} leaves it unloaded ({@link #enabled}).
 */
public final class MiniLmEmbedder implements Embedder {

    private static final Logger LOG = Logger.getLogger(MiniLmEmbedder.class.getName());
    private static volatile boolean enabled = true;
    private static volatile MiniLmEmbedder shared;

    private final EmbeddingModel model;

    private MiniLmEmbedder() {
        long start = System.nanoTime();
        this.model = new AllMiniLmL6V2QuantizedEmbeddingModel();
        LOG.info(() -> "embedding model all-MiniLM-L6-v2 (quantized) loaded in " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    /** Whether search by meaning is on ({@code DEMENTIA_EMBEDDINGS}); set once at start. */
    public static void enabled(boolean on) {
        enabled = on;
    }

    /** @return the shared model, or {@code null} when embeddings are off */
    public static Embedder shared() {
        if (!enabled) {
            return null;
        }
        MiniLmEmbedder m = shared;
        if (m == null) {
            synchronized (MiniLmEmbedder.class) {
                m = shared;
                if (m == null) {
                    m = new MiniLmEmbedder();
                    shared = m;
                }
            }
        }
        return m;
    }

    @Override
    public float[] embed(String text) {
        // the model reads 256 word pieces at most; a long text is cut before it spends time on the rest
        String input = text.length() > 4000 ? text.substring(0, 4000) : text;
        return model.embed(input).content().vector();
    }

    @Override
    public String name() {
        return "all-MiniLM-L6-v2 (quantized)";
    }
}
