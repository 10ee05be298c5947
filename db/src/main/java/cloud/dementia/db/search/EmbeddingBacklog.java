package cloud.dementia.db.search;

import java.util.Map;

/** What the background embedder has left to do: versions without a vector, by project schema. */
public interface EmbeddingBacklog {

    /** None: the model is off, so nothing is embedded and nothing waits. */
    EmbeddingBacklog NONE = new EmbeddingBacklog() {
        @Override
        public Map<String, Long> bySchema() {
            return Map.of();
        }

        @Override
        public long total() {
            return 0;
        }
    };

    /** @return versions without a vector, by schema, as last counted */
    Map<String, Long> bySchema();

    /** @return versions without a vector, every project together */
    long total();
}
