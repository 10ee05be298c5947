package cloud.dementia.server.mcp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;

/**
 * Who is watching which context, and telling them when it changes, whichever replica changed it. One thread per
 * process asks each watched project's schema, every {@link #EVERY}, for the locks and unlocks (its audit trail) and the
 * versions written (imports) since it last looked: one indexed statement per watched project, through the project's
 * pool and so inside the connection budget; plain SQL, so it works behind PgBouncer in transaction mode (where
 * {@code LISTEN} does not) and on Citus. Nothing is asked while nobody watches.
 * <p>
 * Ids of a {@code bigserial} are handed out at insert and seen at commit, so a lower id may appear after a higher one;
 * each look reaches back {@link #OVERLAP} ids below the highest seen and skips the ids it already told.
 */
final class ContextWatch implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ContextWatch.class.getName());
    static final Duration EVERY = Duration.ofMillis(250);
    static final long OVERLAP = 1000;

    private final Projects projects;
    private final Contexts contexts;
    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final Map<String, Cursor> cursors = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private Thread poller;

    ContextWatch(Projects projects, Contexts contexts) {
        this.projects = projects;
        this.contexts = contexts;
    }

    /** A resource watched: the latest version of a topic (a URI naming one version never changes). */
    record Target(String project, String topic, String uri) {
    }

    /** What one listener watches, and what has changed since it last looked. */
    final class Subscription implements AutoCloseable {
        private final Set<Target> targets = ConcurrentHashMap.newKeySet();
        final BlockingQueue<String> updates = new LinkedBlockingQueue<>(10_000);

        /** Watches these targets from now on (their projects' changes from this moment), and no others. */
        void watch(Collection<Target> now) {
            for (Target t : now) {
                cursorOf(t.project());
            }
            targets.retainAll(now);
            targets.addAll(now);
        }

        /** @return the next changed URI, waiting at most {@code wait}; empty when none changed or the watch closed */
        Optional<String> next(Duration wait) throws InterruptedException {
            return Optional.ofNullable(updates.poll(wait.toMillis(), TimeUnit.MILLISECONDS));
        }

        boolean open() {
            return !closed && subscriptions.contains(this);
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }

    /** Where a project's changes were last read: the highest ids seen, and the ids told within the overlap. */
    private static final class Cursor {
        final String schema;
        /** What was there when watching began: never told. */
        final long auditStart;
        final long lockStart;
        long audit;
        long lock;
        final Set<Long> toldAudit = new HashSet<>();
        final Set<Long> toldLock = new HashSet<>();

        Cursor(String schema, long[] start) {
            this.schema = schema;
            this.auditStart = start[0];
            this.lockStart = start[1];
            this.audit = start[0];
            this.lock = start[1];
        }
    }

    /** @return a new subscription with nothing watched yet */
    Subscription subscribe() {
        start();
        Subscription s = new Subscription();
        subscriptions.add(s);
        return s;
    }

    /** Starts watching the project now (its changes from this moment are told), if it exists. */
    private void cursorOf(String project) {
        if (cursors.containsKey(project)) {
            return;
        }
        projects.find(project).ifPresent(p -> cursors.computeIfAbsent(project, n -> new Cursor(p.schema(), contexts.changeCursors(p.schema()))));
    }

    private synchronized void start() {
        if (poller == null && !closed) {
            poller = Thread.ofPlatform().daemon().name("dementia-context-watch").start(this::run);
        }
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(EVERY);
                look();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "context watch: a look failed; the next one tries again", e);
            }
        }
    }

    /** One look at every watched project: the changed topics go to the subscriptions that watch them. */
    void look() {
        Map<String, List<Subscription>> byProject = new HashMap<>();
        for (Subscription s : subscriptions) {
            for (Target t : s.targets) {
                byProject.computeIfAbsent(t.project(), p -> new ArrayList<>()).add(s);
            }
        }
        cursors.keySet().retainAll(byProject.keySet());
        for (Map.Entry<String, List<Subscription>> e : byProject.entrySet()) {
            String project = e.getKey();
            cursorOf(project);
            Cursor c = cursors.get(project);
            if (c == null) {
                continue; // not created yet: watched from its first lock on, once it exists
            }
            Set<String> changed = new HashSet<>();
            try {
                for (Contexts.Change change : contexts.changesAbove(c.schema, Math.max(c.auditStart, c.audit - OVERLAP),
                        Math.max(c.lockStart, c.lock - OVERLAP), 10_000)) {
                    Set<Long> told = change.audit() ? c.toldAudit : c.toldLock;
                    if (told.add(change.id())) {
                        changed.add(change.label());
                    }
                    if (change.audit()) {
                        c.audit = Math.max(c.audit, change.id());
                    } else {
                        c.lock = Math.max(c.lock, change.id());
                    }
                }
            } catch (RuntimeException ex) {
                // the project was deleted, or the database does not answer now: look again next time
                cursors.remove(project);
                LOG.log(Level.FINE, "context watch of " + project + " failed", ex);
                continue;
            }
            c.toldAudit.removeIf(id -> id <= c.audit - OVERLAP);
            c.toldLock.removeIf(id -> id <= c.lock - OVERLAP);
            if (changed.isEmpty()) {
                continue;
            }
            for (Subscription s : new HashSet<>(e.getValue())) {
                for (Target t : s.targets) {
                    if (t.project().equals(project) && changed.contains(t.topic())) {
                        s.updates.offer(t.uri());
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = poller;
        }
        if (t != null) {
            t.interrupt();
        }
        subscriptions.clear();
    }
}
