package cloud.dementia.server.search;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.logging.Logger;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

import cloud.dementia.db.search.Embedder;

/**
 * all-MiniLM-L6-v2 (quantized, 384 dimensions) on ONNX Runtime, in the server process: the model ships in its jar,
 * nothing goes over the network. Thread-safe; made once by the composition root when {@code DEMENTIA_EMBEDDINGS} is on.
 * <p>
 * ONNX Runtime runs each text on one thread ({@code intraOpNumThreads = 1}): the background embedder then keeps at
 * most one core busy, and the requests keep the other; a short question is not faster on two.
 */
public final class MiniLmEmbedder implements Embedder {

    private static final Logger LOG = Logger.getLogger(MiniLmEmbedder.class.getName());
    /** The model reads 256 word pieces at most: a long text is cut before it costs time for nothing. */
    private static final int MAX_TEXT = 4000;

    private volatile AbstractInProcessEmbeddingModel model;

    private MiniLmEmbedder() {
    }

    /**
     * @return the embedder; the model is loaded (about a second, 25 MB) when it first has work: a server whose
     *         projects have every vector and that is never searched by meaning never loads it
     */
    public static MiniLmEmbedder create() {
        return new MiniLmEmbedder();
    }

    private AbstractInProcessEmbeddingModel model() {
        AbstractInProcessEmbeddingModel m = model;
        if (m == null) {
            synchronized (this) {
                m = model;
                if (m == null) {
                    m = load();
                    model = m;
                }
            }
        }
        return m;
    }

    private static AbstractInProcessEmbeddingModel load() {
        long start = System.nanoTime();
        OnnxBertBiEncoder encoder;
        try (InputStream onnx = resource("all-minilm-l6-v2-q.onnx"); InputStream tokenizer = resource("all-minilm-l6-v2-q-tokenizer.json");
             OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            // errors only: ONNX Runtime's native log writes warnings to stderr, past our logging, for nothing the user can act on
            OrtEnvironment environment = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            OrtSession session = environment.createSession(onnx.readAllBytes(), options);
            encoder = new OnnxBertBiEncoder(environment, session, tokenizer, PoolingMode.MEAN);
        } catch (IOException e) {
            throw new UncheckedIOException("the embedding model cannot be read from its jar: " + e.getMessage(), e);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load the embedding model: " + e.getMessage(), e);
        }
        // the executor runs embedAll's parts on the calling thread: the caller chooses the thread
        AbstractInProcessEmbeddingModel loaded = new AbstractInProcessEmbeddingModel(Runnable::run) {
            @Override
            protected OnnxBertBiEncoder model() {
                return encoder;
            }
        };
        LOG.info(() -> "embedding model all-MiniLM-L6-v2 (quantized) loaded in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        return loaded;
    }

    private static InputStream resource(String name) {
        InputStream in = AllMiniLmL6V2QuantizedEmbeddingModel.class.getResourceAsStream("/" + name);
        if (in == null) {
            throw new IllegalStateException("the embedding model's jar has no " + name);
        }
        return in;
    }

    @Override
    public float[] embed(String text) {
        return model().embed(cut(text)).content().vector();
    }

    @Override
    public List<float[]> embedAll(List<String> texts) {
        List<TextSegment> segments = texts.stream().map(t -> TextSegment.from(cut(t))).toList();
        return model().embedAll(segments).content().stream().map(Embedding::vector).toList();
    }

    private static String cut(String text) {
        return text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text;
    }

    @Override
    public String name() {
        return "all-MiniLM-L6-v2 (quantized)";
    }
}
