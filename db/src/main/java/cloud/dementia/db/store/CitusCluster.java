package cloud.dementia.db.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/**
 * The Citus cluster behind the coordinator the service connects to, when it is one (schema-based sharding: each
 * project's schema lives on one worker): its workers, where each project schema lives and how big it is, and moving
 * one to another worker ({@code citus_schema_move}). Asked through the control schema's pool, on the coordinator.
 */
public final class CitusCluster {

    /** A worker of the cluster. */
    public record Node(String host, int port) {
        public String name() {
            return host + ":" + port;
        }

        /** @return the node named {@code host:port} */
        public static Node parse(String name) {
            int colon = name == null ? -1 : name.lastIndexOf(':');
            if (colon <= 0) {
                throw new StoreRuleException("a node is named host:port (got `" + name + "`)");
            }
            try {
                return new Node(name.substring(0, colon), Integer.parseInt(name.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new StoreRuleException("a node is named host:port (got `" + name + "`)");
            }
        }
    }

    /** Where a distributed schema lives, and its size (its shards' bytes). */
    public record Placement(String schema, Node node, long bytes) {
    }

    /** A move in progress, as {@code get_rebalance_progress()} reports it. */
    public record Move(String table, Node from, Node to, long sourceBytes, long targetBytes, int progress) {
    }

    private final PoolRegistry registry;
    private final String version;

    private CitusCluster(PoolRegistry registry, String version) {
        this.registry = registry;
        this.version = version;
    }

    /** @return the cluster, when the database is a Citus coordinator */
    public static Optional<CitusCluster> of(PoolRegistry registry) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT extversion FROM pg_extension WHERE extname = 'citus'",
                r -> r.string(1))).map(v -> new CitusCluster(registry, v));
    }

    /** @return the Citus version installed */
    public String version() {
        return version;
    }

    /** @return the workers that hold schemas (active primaries other than the coordinator), by name */
    public List<Node> workers() {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query("SELECT nodename, nodeport FROM pg_dist_node "
                + "WHERE groupid <> 0 AND noderole = 'primary' AND isactive AND shouldhaveshards ORDER BY nodename, nodeport",
                r -> new Node(r.string(1), r.integer(2))));
    }

    /** @return every distributed schema's node and size, by schema */
    public Map<String, Placement> placements() {
        Map<String, Placement> out = new TreeMap<>();
        registry.inStatement(ControlSchema.NAME, tx -> tx.query("SELECT s.schema_name::text, min(sh.nodename), min(sh.nodeport), "
                + "coalesce(sum(sh.shard_size), 0) FROM citus_schemas s JOIN citus_shards sh ON sh.colocation_id = s.colocation_id "
                + "GROUP BY s.schema_name", r -> {
                    out.put(r.string(1), new Placement(r.string(1), new Node(r.string(2), r.integer(3)), r.longValue(4)));
                    return null;
                }));
        return out;
    }

    /** @return where the schema lives, when it is distributed */
    public Optional<Placement> placement(String schema) {
        return Optional.ofNullable(placements().get(schema));
    }

    /** @return the moves in progress */
    public List<Move> moves() {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query("SELECT table_name::text, sourcename, sourceport, targetname, targetport, "
                + "source_shard_size, target_shard_size, progress FROM get_rebalance_progress()",
                r -> new Move(r.string(1), new Node(r.string(2), r.integer(3)), new Node(r.string(4), r.integer(5)), r.longValue(6),
                        r.longValue(7), r.integer(8))));
    }

    /**
     * Moves a project's schema to another worker, blocking its writes while the last changes are copied (reads go on);
     * returns when it is done.
     *
     * @throws StoreRuleException when the node is not a worker, or the schema is not distributed
     */
    public Placement move(String schema, Node to) {
        if (!workers().contains(to)) {
            throw new StoreRuleException("`" + to.name() + "` is not a worker of this cluster (workers: "
                    + workers().stream().map(Node::name).toList() + ")");
        }
        Placement from = placement(schema).orElseThrow(() -> new StoreRuleException("schema `" + schema + "` is not distributed"));
        if (from.node().equals(to)) {
            return from;
        }
        registry.inTransaction(ControlSchema.NAME, tx -> {
            // a move copies the whole schema: longer than a tool's statement timeout, bounded all the same
            tx.execute("SET LOCAL statement_timeout = '30min'");
            return tx.queryOne("SELECT citus_schema_move(?::regnamespace, ?, ?, 'block_writes')", r -> null, schema, to.host(), to.port());
        });
        return placement(schema).orElseThrow();
    }
}
