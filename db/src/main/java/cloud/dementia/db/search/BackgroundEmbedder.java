package cloud.dementia.db.search;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;

/**
 * Fills the vectors of context versions that have none, on one thread of its own, never inside a caller's request: a
 * lock commits without waiting for the model, and search ranks a version by words and trigrams until its vector is
 * here.
 * <p>
 * Writes tell it which project has new versions ({@link #wake}); at start, and every {@link #RESCAN} after, it asks
 * every project how many versions have no vector (one count over a partial index each), so versions left by a
 * restart, by another replica that stopped, or by a time with the model off are found again. It reads a batch
 * without holding a connection while the model runs, then stores the batch in one transaction that takes the
 * project's next search generation (so every replica's cache sees the new vectors at its next search). Two replicas
 * may compute the same vector; only the first one stored is kept.
 */
public final class BackgroundEmbedder implements EmbeddingBacklog, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BackgroundEmbedder.class.getName());
    /** How often every project is asked for versions without a vector. */
    static final Duration RESCAN = Duration.ofSeconds(60);
    /** Versions embedded and stored together. */
    static final int BATCH = 16;
    /** Longest the embedder waits for a quiet moment before it computes its next vector anyway. */
    static final long GIVE_WAY_NANOS = 500_000_000;
    /** A quiet moment: no call served, none started or ended for this long (a client's next call usually comes sooner). */
    static final long QUIET_NANOS = 20_000_000;
    /** Projects waiting to be worked on; beyond it, the next rescan finds them. */
    private static final int QUEUE = 10_000;

    private final PoolRegistry registry;
    private final Projects projects;
    private final Embedder embedder;
    private final Traffic traffic;
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>(QUEUE);
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> backlog = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long lastScan;
    private volatile long embedded;

    public BackgroundEmbedder(PoolRegistry registry, Projects projects, Embedder embedder) {
        this(registry, projects, embedder, new Traffic());
    }

    /** @param traffic the tool calls being served, which the embedder gives way to */
    public BackgroundEmbedder(PoolRegistry registry, Projects projects, Embedder embedder, Traffic traffic) {
        this.registry = registry;
        this.projects = projects;
        this.embedder = embedder;
        this.traffic = traffic;
        // one platform thread: the model keeps one core busy at most, and request threads keep the other
        this.thread = Thread.ofPlatform().name("dementia-embedder").daemon(true).unstarted(this::run);
    }

    /** Starts the thread; it looks for versions without a vector first. */
    public BackgroundEmbedder start() {
        thread.start();
        return this;
    }

    /**
     * Says that a project has new versions to embed (after a lock or an import committed); they count in the backlog
     * at once, and exactly once the embedder has counted them. Never blocks.
     */
    public void added(String schema, int versions) {
        backlog.merge(schema, (long) versions, Long::sum);
        wake(schema);
    }

    /** Says that a project may have versions to embed. Never blocks. */
    public void wake(String schema) {
        if (queued.add(schema) && !queue.offer(schema)) {
            // full: the next rescan finds it
            queued.remove(schema);
        }
    }

    @Override
    public Map<String, Long> bySchema() {
        return Map.copyOf(backlog);
    }

    @Override
    public long total() {
        long sum = 0;
        for (long n : backlog.values()) {
            sum += n;
        }
        return sum;
    }

    /** @return how many vectors this process has computed and stored */
    public long embedded() {
        return embedded;
    }

    private void run() {
        while (running) {
            try {
                if (System.nanoTime() - lastScan >= RESCAN.toNanos() || lastScan == 0) {
                    lastScan = System.nanoTime();
                    rescan();
                }
                String schema = queue.poll(1, TimeUnit.SECONDS);
                if (schema != null) {
                    queued.remove(schema);
                    drain(schema);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "background embedder: " + e.getMessage() + "; it goes on", e);
                pause();
            }
        }
    }

    /** Counts every migrated project's versions without a vector, in one read of the control schema's pool. */
    private void rescan() {
        List<Projects.Project> all = projects.list();
        Map<String, Long> counts = registry.inReadOnlyTransaction(ControlSchema.NAME, tx -> {
            Map<String, Long> out = new java.util.HashMap<>();
            for (Projects.Project p : all) {
                String s = Tx.identifier(p.schema());
                // projects not yet migrated to the compact vectors are migrated at their first use, then woken
                boolean ready = tx.queryOne("SELECT to_regclass(?) IS NOT NULL", r -> r.bool(1), s + ".search_state").orElse(false);
                if (ready) {
                    out.put(p.schema(), tx.queryOne("SELECT count(*) FROM " + s + ".context_locks WHERE embedding IS NULL",
                            r -> r.longValue(1)).orElse(0L));
                }
            }
            return out;
        });
        backlog.keySet().retainAll(counts.keySet());
        counts.forEach((schema, n) -> {
            backlog.put(schema, n);
            if (n > 0) {
                wake(schema);
            }
        });
    }

    /** Embeds a project's versions without a vector, a batch at a time, until none is left or the process stops. */
    private void drain(String schema) {
        while (running) {
            List<Object[]> batch;
            try {
                batch = registry.inStatement(schema, tx -> tx.query(
                        "SELECT id, label, content FROM {s}.context_locks WHERE embedding IS NULL ORDER BY id LIMIT ?",
                        r -> new Object[] {r.longValue(1), r.string(2), r.string(3)}, BATCH));
            } catch (DataAccessException e) {
                if ("42P01".equals(e.sqlState()) || "3F000".equals(e.sqlState())) {
                    // the project was deleted meanwhile
                    backlog.remove(schema);
                    return;
                }
                throw e;
            } catch (PoolException e) {
                LOG.info(() -> "schema=" + schema + ": background embedder waits: " + e.getMessage());
                pause();
                wake(schema);
                return;
            }
            if (batch.isEmpty()) {
                backlog.put(schema, 0L);
                return;
            }
            // the model runs here, with no connection held, one text at a time after the calls being served
            List<float[]> vectors = new ArrayList<>(batch.size());
            for (Object[] row : batch) {
                giveWay();
                vectors.add(embedder.embed(Embedder.contextText((String) row[1], (String) row[2])));
            }
            Long[] ids = new Long[batch.size()];
            String[] encoded = new String[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                ids[i] = (Long) batch.get(i)[0];
                encoded[i] = Base64.getEncoder().encodeToString(Vectors.encode(vectors.get(i)));
            }
            long left = registry.inTransaction(schema, tx -> {
                long generation = nextGeneration(tx);
                tx.update("UPDATE {s}.context_locks c SET embedding = decode(v.e, 'base64'), embedded_gen = ? "
                        + "FROM unnest(?::bigint[], ?::text[]) AS v(id, e) WHERE c.id = v.id AND c.embedding IS NULL", generation, ids, encoded);
                return tx.queryOne("SELECT count(*) FROM {s}.context_locks WHERE embedding IS NULL", r -> r.longValue(1)).orElse(0L);
            });
            embedded += batch.size();
            backlog.put(schema, left);
        }
    }

    /**
     * Takes the project's next search generation. The row stays locked until the transaction ends, so generations are
     * handed out in commit order (see {@link CachedVectorIndex}).
     */
    public static long nextGeneration(Tx tx) throws SQLException {
        return tx.queryOne("UPDATE {s}.search_state SET generation = generation + 1 RETURNING generation", r -> r.longValue(1)).orElseThrow();
    }

    /**
     * Waits for a quiet moment between tool calls, at most {@link #GIVE_WAY_NANOS}: a call's latency does not carry the
     * model's, and under steady traffic the backlog still drains, slowly (a vector at least every half second); once
     * the calls stop it drains at full speed.
     */
    private void giveWay() {
        long until = System.nanoTime() + GIVE_WAY_NANOS;
        while (traffic.busy(QUIET_NANOS) && System.nanoTime() < until && running) {
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Stops the thread; a batch the model is computing is finished and stored first (bounded wait). */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
