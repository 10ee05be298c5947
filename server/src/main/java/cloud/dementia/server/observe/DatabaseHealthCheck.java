package cloud.dementia.server.observe;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.schema.ControlSchema;

/**
 * Readiness: a database round trip on the control schema within 2 s. Pool saturation is reported as detail, never
 * as a failure: a busy service is still ready.
 */
public final class DatabaseHealthCheck implements HealthCheck {

    private static final long LIMIT_MS = 2000;
    private final PoolRegistry registry;

    public DatabaseHealthCheck(PoolRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckType type() {
        return HealthCheckType.READINESS;
    }

    @Override
    public String name() {
        return "database";
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponse.Builder response = HealthCheckResponse.builder();
        long start = System.nanoTime();
        CompletableFuture<Integer> roundTrip = new CompletableFuture<>();
        Thread.ofVirtual().name("health-database").start(() -> {
            try {
                roundTrip.complete(registry.inStatement(ControlSchema.NAME,
                        tx -> tx.queryOne("SELECT 1", r -> r.integer(1)).orElseThrow()));
            } catch (Throwable t) {
                roundTrip.completeExceptionally(t);
            }
        });
        try {
            roundTrip.get(LIMIT_MS, TimeUnit.MILLISECONDS);
            response.status(true).detail("roundTripMs", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } catch (TimeoutException e) {
            response.status(false).detail("error", "no answer from the database within " + LIMIT_MS + " ms");
        } catch (ExecutionException e) {
            response.status(false).detail("error", String.valueOf(e.getCause().getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.status(false).detail("error", "interrupted");
        }
        BudgetStats budget = registry.budget();
        response.detail("budget", budget.inUse() + "/" + budget.budget() + " in use, " + budget.allocated() + " open");
        long saturated = registry.pools().stream().filter(PoolStats::saturated).count();
        response.detail("saturatedPools", saturated);
        return response.build();
    }
}
