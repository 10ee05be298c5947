package cloud.dementia.db.search;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Logger;

import cloud.dementia.db.pool.Tx;

/**
 * Search by meaning without pgvector: each project's vectors in one contiguous float array in this process, scanned
 * exactly (a dot product per version: 10,000 versions of 384 dimensions is a few milliseconds).
 * <p>
 * The cache is derived from the database and checked against it on every search, in the search's own statement: the
 * project's {@code search_state} generation says whether any vector was set since the cache last looked, and only
 * those rows are read ({@code embedded_gen > generation seen}, an index). Generations are handed out under that row's
 * lock, so in commit order: nothing set before the generation seen can be missed. Versions that stopped being the
 * latest stay in the array until a search reads them and finds them gone ({@link #forget}); past a quarter of the
 * array, the project is read again whole.
 * <p>
 * Memory is bounded ({@code DEMENTIA_VECTOR_CACHE_MB}): least recently searched projects are dropped first. A project
 * larger than the whole bound is searched from a fresh read every time and not kept.
 */
public final class CachedVectorIndex implements VectorIndex {

    private static final Logger LOG = Logger.getLogger(CachedVectorIndex.class.getName());
    /** Every latest vector, with the project's generation, read in one statement (one snapshot). */
    private static final String ALL = "SELECT g.epoch, g.generation, c.id, c.embedded_gen, c.embedding FROM {s}.search_state g "
            + "LEFT JOIN {s}.context_locks c ON c.is_latest AND c.embedding IS NOT NULL";
    /** What changed since a generation: usually no row at all, found through {@code context_locks_embedded}. */
    private static final String CHANGED = ALL + " AND c.embedded_gen > ?";

    private final long maxBytes;
    /** Projects by schema, least recently searched first. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    /** @param maxBytes the bound on every cached vector together */
    public CachedVectorIndex(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** What was read: the project's epoch and generation, and the rows. */
    private record Read(long epoch, long generation, List<long[]> keys, List<byte[]> vectors) {
    }

    @Override
    public Found search(Tx tx, float[] question, int k, Set<Long> also) throws SQLException {
        String schema = tx.schema();
        Entry entry;
        synchronized (entries) {
            entry = entries.get(schema);
        }
        if (entry != null) {
            long seen = entry.generation();
            Read changed = read(tx, CHANGED, seen);
            if (changed.epoch() != entry.epoch || changed.generation() < seen) {
                // the project was deleted and made again under the same name: nothing cached is of it
                entry = load(schema, read(tx, ALL));
            } else if (!entry.apply(changed)) {
                entry = load(schema, read(tx, ALL));
            } else {
                account();
            }
        } else {
            entry = load(schema, read(tx, ALL));
        }
        return entry.search(question, k, also);
    }

    @Override
    public void forget(String schema, Collection<Long> ids) {
        Entry entry;
        synchronized (entries) {
            entry = entries.get(schema);
        }
        if (entry != null && entry.forget(ids)) {
            drop(schema, entry);
        }
    }

    /** @return the bytes held now, every project together */
    public long bytes() {
        synchronized (entries) {
            return bytes;
        }
    }

    /** @return how many projects are cached */
    public int projects() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private static Read read(Tx tx, String sql, Object... params) throws SQLException {
        long[] state = new long[2];
        List<long[]> keys = new ArrayList<>();
        List<byte[]> vectors = new ArrayList<>();
        tx.query(sql, r -> {
            state[0] = r.longValue(1);
            state[1] = r.longValue(2);
            byte[] v = r.bytes(5);
            if (v != null) {
                keys.add(new long[] {r.longValue(3), r.longValue(4)});
                vectors.add(v);
            }
            return null;
        }, params);
        return new Read(state[0], state[1], keys, vectors);
    }

    private Entry load(String schema, Read all) {
        Entry entry = new Entry(all.epoch());
        entry.apply(all);
        synchronized (entries) {
            Entry old = entries.remove(schema);
            if (old != null) {
                bytes -= old.accounted;
            }
            if (entry.bytes() <= maxBytes) {
                entries.put(schema, entry);
                entry.accounted = entry.bytes();
                bytes += entry.accounted;
                evict(schema);
            } else {
                LOG.warning(() -> "schema=" + schema + ": its vectors take " + entry.bytes() / 1024 + " KiB, more than DEMENTIA_VECTOR_CACHE_MB "
                        + "allows: it is read whole for each search");
            }
        }
        return entry;
    }

    /** Takes a grown entry's new size into account and drops the least recently searched projects beyond the bound. */
    private void account() {
        synchronized (entries) {
            long total = 0;
            for (Entry e : entries.values()) {
                e.accounted = e.bytes();
                total += e.accounted;
            }
            bytes = total;
            evict(null);
        }
    }

    private void evict(String keep) {
        Iterator<Map.Entry<String, Entry>> oldest = entries.entrySet().iterator();
        while (bytes > maxBytes && oldest.hasNext()) {
            Map.Entry<String, Entry> e = oldest.next();
            if (e.getKey().equals(keep)) {
                continue;
            }
            bytes -= e.getValue().accounted;
            oldest.remove();
        }
    }

    private void drop(String schema, Entry entry) {
        synchronized (entries) {
            if (entries.remove(schema, entry)) {
                bytes -= entry.accounted;
            }
        }
    }

    /** One project's vectors: ids and unit vectors side by side, appended as they are set. */
    private static final class Entry {

        private static final long GONE = -1;

        final long epoch;
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        private final Map<Long, Integer> slots = new HashMap<>();
        private long generation = -1;
        private long[] ids = new long[0];
        private float[] vectors = new float[0];
        private int size;
        private int dims;
        private int gone;
        /** What the cache counted for this entry (changed under the cache's lock only). */
        long accounted;

        Entry(long epoch) {
            this.epoch = epoch;
        }

        long generation() {
            lock.readLock().lock();
            try {
                return generation;
            } finally {
                lock.readLock().unlock();
            }
        }

        long bytes() {
            return ids.length * (long) Long.BYTES + vectors.length * (long) Float.BYTES + slots.size() * 48L + 128;
        }

        /** Adds what the read holds beyond this entry's generation. @return false when the entry should be read again */
        boolean apply(Read read) {
            lock.writeLock().lock();
            try {
                for (int i = 0; i < read.keys().size(); i++) {
                    long id = read.keys().get(i)[0];
                    long gen = read.keys().get(i)[1];
                    byte[] stored = read.vectors().get(i);
                    if (gen <= generation && generation >= 0) {
                        continue;
                    }
                    int d = stored.length / Float.BYTES;
                    if (dims == 0) {
                        dims = d;
                    } else if (d != dims) {
                        continue;
                    }
                    Integer at = slots.get(id);
                    int slot = at != null ? at : add(id);
                    Vectors.decodeInto(stored, vectors, slot * dims);
                }
                generation = Math.max(generation, read.generation());
                return gone * 4 <= size || size < 64;
            } finally {
                lock.writeLock().unlock();
            }
        }

        private int add(long id) {
            if (size == ids.length) {
                int capacity = Math.max(16, size + (size >> 1));
                ids = Arrays.copyOf(ids, capacity);
                vectors = Arrays.copyOf(vectors, capacity * dims);
            }
            ids[size] = id;
            slots.put(id, size);
            return size++;
        }

        /** @return whether so much is gone that the entry should be read again */
        boolean forget(Collection<Long> forgotten) {
            lock.writeLock().lock();
            try {
                for (Long id : forgotten) {
                    Integer slot = slots.remove(id);
                    if (slot != null) {
                        ids[slot] = GONE;
                        gone++;
                    }
                }
                return gone * 4 > size && size >= 64;
            } finally {
                lock.writeLock().unlock();
            }
        }

        Found search(float[] question, int k, Set<Long> also) {
            long[] wanted = also.stream().mapToLong(Long::longValue).sorted().toArray();
            Map<Long, Double> cosines = new HashMap<>();
            lock.readLock().lock();
            try {
                if (size == 0 || question.length != dims) {
                    return new Found(List.of(), cosines);
                }
                float[] q = Vectors.unit(question);
                // the k best so far, worst at 0 (a small binary heap over two arrays)
                long[] bestIds = new long[k];
                double[] best = new double[k];
                int found = 0;
                for (int i = 0; i < size; i++) {
                    long id = ids[i];
                    if (id == GONE) {
                        continue;
                    }
                    double c = dot(q, vectors, i * dims, dims);
                    if (wanted.length > 0 && Arrays.binarySearch(wanted, id) >= 0) {
                        cosines.put(id, c);
                    }
                    if (found < k) {
                        best[found] = c;
                        bestIds[found] = id;
                        siftUp(best, bestIds, found++);
                    } else if (k > 0 && c > best[0]) {
                        best[0] = c;
                        bestIds[0] = id;
                        siftDown(best, bestIds, found);
                    }
                }
                List<Scored> nearest = new ArrayList<>(found);
                for (int i = 0; i < found; i++) {
                    nearest.add(new Scored(bestIds[i], best[i]));
                    cosines.put(bestIds[i], best[i]);
                }
                nearest.sort((a, b) -> Double.compare(b.cosine(), a.cosine()));
                return new Found(nearest, cosines);
            } finally {
                lock.readLock().unlock();
            }
        }

        private static double dot(float[] q, float[] all, int from, int dims) {
            // four running sums: one sum would wait on its own last addition at every step
            float s0 = 0;
            float s1 = 0;
            float s2 = 0;
            float s3 = 0;
            int j = 0;
            for (; j + 3 < dims; j += 4) {
                s0 += q[j] * all[from + j];
                s1 += q[j + 1] * all[from + j + 1];
                s2 += q[j + 2] * all[from + j + 2];
                s3 += q[j + 3] * all[from + j + 3];
            }
            for (; j < dims; j++) {
                s0 += q[j] * all[from + j];
            }
            return (s0 + s1) + (s2 + s3);
        }

        private static void siftUp(double[] v, long[] ids, int i) {
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (v[parent] <= v[i]) {
                    return;
                }
                swap(v, ids, parent, i);
                i = parent;
            }
        }

        private static void siftDown(double[] v, long[] ids, int n) {
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                int r = l + 1;
                int min = i;
                if (l < n && v[l] < v[min]) {
                    min = l;
                }
                if (r < n && v[r] < v[min]) {
                    min = r;
                }
                if (min == i) {
                    return;
                }
                swap(v, ids, i, min);
                i = min;
            }
        }

        private static void swap(double[] v, long[] ids, int a, int b) {
            double t = v[a];
            v[a] = v[b];
            v[b] = t;
            long u = ids[a];
            ids[a] = ids[b];
            ids[b] = u;
        }
    }
}
