package cloud.dementia.server.observe;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.Liveness;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.schema.ControlSchema;

/**
 * Readiness: a database round trip on the control schema within 2 s, or, while every connection is busy, the
 * registry's own traffic as evidence ({@link Liveness}): a probe would wait in line behind the work, and a busy
 * service is still ready. Busy means an answer from the database within the last 2 s, or work in flight that a live
 * database would still be running (younger than the statement timeout plus 2 s). Saturation is reported as detail,
 * never as a failure.
 */
public final class DatabaseHealthCheck implements HealthCheck {

    private static final long LIMIT_MS = 2000;
    private static final Duration LIMIT = Duration.ofMillis(LIMIT_MS);
    private final PoolRegistry registry;

    public DatabaseHealthCheck(PoolRegistry registry) {
        this.registry = registry;
    }

    /**
     * Exports readiness as {@code dementia_ready} (1 ready, 0 not), decided by this same check when Prometheus scrapes,
     * so an alert sees what the load balancer's probe sees — including a database that is away while the process still
     * answers {@code /metrics}.
     */
    public DatabaseHealthCheck exportTo(io.micrometer.core.instrument.MeterRegistry meters) {
        io.micrometer.core.instrument.Gauge.builder("dementia.ready", this, check -> check.call().status() == HealthCheckResponse.Status.UP ? 1 : 0)
                .description("readiness, as /observe/health/ready decides it (the database answers within 2 s, or is busy with work)")
                .register(meters);
        return this;
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
        if (busy(response, registry.liveness(), false)) {
            return details(response);
        }
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
            if (!busy(response, registry.liveness(), true)) {
                response.status(false).detail("error", "no answer from the database within " + LIMIT_MS + " ms");
            }
        } catch (ExecutionException e) {
            response.status(false).detail("error", String.valueOf(e.getCause().getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.status(false).detail("error", "interrupted");
        }
        return details(response);
    }

    /**
     * @param waited whether the round trip was tried and got no connection in time (then a pool of one busy schema is
     *               evidence as well as a saturated budget)
     * @return whether the answer is "ready, busy" on the evidence of the traffic (the response is filled in)
     */
    private boolean busy(HealthCheckResponse.Builder response, Liveness seen, boolean waited) {
        Duration statementTime = registry.settings().statementTimeout().plus(LIMIT);
        if (!(seen.saturated() || waited) || !seen.showsLiveDatabase(LIMIT, statementTime)) {
            return false;
        }
        StringBuilder why = new StringBuilder(seen.saturated() ? "every connection is in use" : "no connection for the probe in time");
        if (seen.inFlight() > 0) {
            why.append(": ").append(seen.inFlight()).append(" unit(s) of work in flight");
            if (seen.youngestInFlight() != null) {
                why.append(", the newest started ").append(seen.youngestInFlight().toMillis()).append(" ms ago");
            }
        }
        if (seen.sinceLastAnswer() != null) {
            why.append("; last answer from the database ").append(seen.sinceLastAnswer().toMillis()).append(" ms ago");
        }
        response.status(true).detail("busy", why.toString());
        return true;
    }

    private HealthCheckResponse details(HealthCheckResponse.Builder response) {
        BudgetStats budget = registry.budget();
        response.detail("budget", budget.inUse() + "/" + budget.budget() + " in use, " + budget.allocated() + " open");
        long saturated = registry.pools().stream().filter(PoolStats::saturated).count();
        response.detail("saturatedPools", saturated);
        return response.build();
    }
}
