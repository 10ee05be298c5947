package cloud.dementia.db.store;

import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.search.BackgroundEmbedder;
import cloud.dementia.db.search.CachedVectorIndex;
import cloud.dementia.db.search.VectorIndex;
import cloud.dementia.db.search.Vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-process vector index against a real PostgreSQL: what it answers is what the database holds at the search,
 * whoever set the vectors, and its memory stays within its bound.
 */
class VectorIndexTest {

    private static final int DIMS = 384;

    /** A unit vector along one axis: its cosine is 1 with itself and 0 with any other axis. */
    private static float[] axis(int i) {
        float[] v = new float[DIMS];
        v[i] = 1;
        return v;
    }

    private static long lock(StoreFixture f, String schema, String topic) {
        return f.contexts.lock(schema, new Contexts.NewContext(topic, "Text of " + topic + ".", List.of(), Optional.empty()), "t").id();
    }

    /** Stores a vector as the background embedder does: under the project's next search generation. */
    private static void embed(StoreFixture f, String schema, long id, float[] v) {
        f.registry.inTransaction(schema, tx -> tx.update("UPDATE {s}.context_locks SET embedding = decode(?, 'base64'), embedded_gen = ? WHERE id = ?",
                Base64.getEncoder().encodeToString(Vectors.encode(v)), BackgroundEmbedder.nextGeneration(tx), id));
    }

    private static VectorIndex.Found search(StoreFixture f, VectorIndex index, String schema, float[] q, Set<Long> also) {
        return f.registry.inReadOnlyTransaction(schema, tx -> index.search(tx, q, 5, also));
    }

    @Test
    void aVectorSetByAnotherReplicaIsFoundByTheNextSearch() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("vectors").schema();
            long a = lock(f, schema, "a");
            long b = lock(f, schema, "b");
            long c = lock(f, schema, "c");
            CachedVectorIndex replica1 = new CachedVectorIndex(1 << 20);
            CachedVectorIndex replica2 = new CachedVectorIndex(1 << 20);
            assertTrue(search(f, replica1, schema, axis(0), Set.of()).nearest().isEmpty(), "no vector yet");

            embed(f, schema, a, axis(0));
            embed(f, schema, b, axis(1));
            VectorIndex.Found found = search(f, replica1, schema, axis(1), Set.of(a));
            assertEquals(b, found.nearest().get(0).id());
            assertEquals(1.0, found.nearest().get(0).cosine(), 1e-6);
            assertEquals(0.0, found.cosine(a), 1e-6, "the cosine of a candidate from another signal");
            assertTrue(Double.isNaN(found.cosine(c)), "c has no vector yet");

            // set "elsewhere" (not through replica1): replica1's cache holds a and b and must ask for c
            embed(f, schema, c, axis(2));
            assertEquals(c, search(f, replica1, schema, axis(2), Set.of()).nearest().get(0).id());
            assertEquals(c, search(f, replica2, schema, axis(2), Set.of()).nearest().get(0).id());
            assertEquals(3, search(f, replica1, schema, axis(2), Set.of()).nearest().size());
        }
    }

    @Test
    void aVersionNoLongerLatestIsForgottenAndAnUnlockBringsTheOlderOneBack() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("versions").schema();
            long first = lock(f, schema, "rule");
            embed(f, schema, first, axis(5));
            CachedVectorIndex index = new CachedVectorIndex(1 << 20);
            assertEquals(first, search(f, index, schema, axis(5), Set.of()).nearest().get(0).id());

            long second = lock(f, schema, "rule");
            embed(f, schema, second, axis(6));
            // the cache keeps what it had until a search reads it and finds it gone: Contexts.search tells it
            index.forget(schema, List.of(first));
            List<VectorIndex.Scored> now = search(f, index, schema, axis(5), Set.of()).nearest();
            assertEquals(List.of(second), now.stream().map(VectorIndex.Scored::id).toList());

            f.contexts.unlock(schema, "rule", "1.1", false, true, "t");
            assertEquals(first, search(f, index, schema, axis(5), Set.of()).nearest().get(0).id(), "1.0 is the latest again");
        }
    }

    @Test
    void cachedVectorsStayWithinTheBoundAndAnEvictedProjectIsReadAgain() {
        try (StoreFixture f = new StoreFixture()) {
            long perProject = 20L * DIMS * Float.BYTES;
            CachedVectorIndex index = new CachedVectorIndex(perProject * 3);
            String[] schemas = new String[5];
            long[] firsts = new long[5];
            for (int p = 0; p < schemas.length; p++) {
                schemas[p] = f.projects.open("bounded-" + p).schema();
                for (int i = 0; i < 20; i++) {
                    long id = lock(f, schemas[p], "t" + i);
                    embed(f, schemas[p], id, axis(i));
                    if (i == 0) {
                        firsts[p] = id;
                    }
                }
            }
            for (int round = 0; round < 2; round++) {
                for (int p = 0; p < schemas.length; p++) {
                    assertEquals(firsts[p], search(f, index, schemas[p], axis(0), Set.of()).nearest().get(0).id());
                    assertTrue(index.bytes() <= perProject * 3, index.bytes() + " bytes cached, bound " + perProject * 3);
                }
            }
            assertTrue(index.projects() < schemas.length, index.projects() + " projects cached");
        }
    }

    @Test
    void aProjectMadeAgainUnderTheSameNameIsNotAnsweredFromTheOldOnesVectors() {
        try (StoreFixture f = new StoreFixture()) {
            String schema = f.projects.open("again").schema();
            long old = lock(f, schema, "x");
            embed(f, schema, old, axis(1));
            CachedVectorIndex index = new CachedVectorIndex(1 << 20);
            assertEquals(old, search(f, index, schema, axis(1), Set.of()).nearest().get(0).id());

            f.projects.delete("again");
            assertEquals(schema, f.projects.open("again").schema());
            long fresh = lock(f, schema, "y");
            embed(f, schema, fresh, axis(2));
            List<VectorIndex.Scored> found = search(f, index, schema, axis(1), Set.of()).nearest();
            assertEquals(List.of(fresh), found.stream().map(VectorIndex.Scored::id).toList());
        }
    }
}
