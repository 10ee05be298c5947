package cloud.dementia.db.search;

import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import cloud.dementia.db.pool.Tx;

/**
 * Search by meaning over the vectors of a project's latest context versions: the nearest ones to a question, and the
 * cosine of any other candidate. It answers inside the search's own unit of work, so what it returns is what the
 * database holds now (a vector set by another replica a moment ago included).
 * <p>
 * This is the seam for another implementation (pgvector's {@code <=>} ordering over an HNSW index would answer
 * {@link #nearest} in SQL); the one shipped is {@link CachedVectorIndex}, because pgvector is not available everywhere
 * the server runs.
 */
public interface VectorIndex {

    /** A version and its cosine to the question. */
    record Scored(long id, double cosine) {
    }

    /**
     * What the index found for one question.
     *
     * @param nearest  the nearest versions, best first
     * @param cosines  the cosine of each id of {@code also} that has a vector
     */
    record Found(List<Scored> nearest, java.util.Map<Long, Double> cosines) {

        /** @return the cosine of a version, or {@code NaN} when it has no vector yet */
        public double cosine(long id) {
            Double c = cosines.get(id);
            return c == null ? Double.NaN : c;
        }
    }

    /**
     * @param tx       the search's unit of work, on the project's schema
     * @param question the question's vector
     * @param k        how many nearest versions to return
     * @param also     versions found by the other signals, whose cosines are wanted too
     */
    Found search(Tx tx, float[] question, int k, Set<Long> also) throws SQLException;

    /** Tells the index that these versions are no longer latest (found out when the search read them). */
    void forget(String schema, Collection<Long> ids);
}
