package cloud.dementia.db.search;

import java.util.function.ObjIntConsumer;

/**
 * Search by meaning, as the store uses it: the model (for the question only), the index over the stored vectors, and
 * who is told that a project has versions to embed.
 *
 * @param model    the embedding model
 * @param index    the vectors of latest versions
 * @param backlog  told the schema and how many versions after a write committed versions without a vector
 */
public record Meaning(Embedder model, VectorIndex index, ObjIntConsumer<String> backlog) {
}
