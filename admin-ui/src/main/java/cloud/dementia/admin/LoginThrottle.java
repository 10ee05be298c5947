package cloud.dementia.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down password guessing, per client address first and per user name second. An address's first
 * {@value #FREE_FAILURES} failures cost nothing, then each further one doubles the wait before its next attempt is even
 * checked (1 s, 2 s, 4 s, ... at most 5 minutes). A user name is slowed the same way from every address only after
 * {@value #USER_FREE_FAILURES} failures: guessing from many addresses is slowed too, but a few wrong passwords from
 * somewhere else do not lock the real user out of their own address. A success clears both counts; failures are
 * forgotten 15 minutes after the last one. Attempts made while waiting are refused without looking at the password and
 * do not count.
 */
final class LoginThrottle {

    static final int FREE_FAILURES = 3;
    static final int USER_FREE_FAILURES = 20;
    static final Duration FIRST_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_DELAY = Duration.ofMinutes(5);
    static final Duration FORGET_AFTER = Duration.ofMinutes(15);
    static final int MAX_KEYS = 10_000;

    private record Failures(int count, Instant last) {

        Instant lockedUntil(int free) {
            if (count < free) {
                return last;
            }
            int doublings = Math.min(count - free, 20);
            Duration delay = FIRST_DELAY.multipliedBy(1L << doublings);
            return last.plus(delay.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : delay);
        }
    }

    private final Map<String, Failures> byKey = new ConcurrentHashMap<>();
    private final Clock clock;

    LoginThrottle(Clock clock) {
        this.clock = clock;
    }

    /** @return how long this client must still wait before an attempt for this user is checked; zero: now */
    Duration waitFor(String address, String user) {
        Instant now = clock.instant();
        Duration byAddress = remaining(addressKey(address), FREE_FAILURES, now);
        Duration byUser = remaining(userKey(user), USER_FREE_FAILURES, now);
        return byAddress.compareTo(byUser) >= 0 ? byAddress : byUser;
    }

    void failed(String address, String user) {
        Instant now = clock.instant();
        if (byKey.size() >= MAX_KEYS) {
            prune(now);
        }
        for (String key : new String[] {addressKey(address), userKey(user)}) {
            byKey.compute(key, (k, f) -> f == null || f.last().plus(FORGET_AFTER).isBefore(now)
                    ? new Failures(1, now) : new Failures(f.count() + 1, now));
        }
    }

    void succeeded(String address, String user) {
        byKey.remove(addressKey(address));
        byKey.remove(userKey(user));
    }

    private Duration remaining(String key, int free, Instant now) {
        Failures f = byKey.get(key);
        if (f == null) {
            return Duration.ZERO;
        }
        Duration left = Duration.between(now, f.lockedUntil(free));
        return left.isNegative() ? Duration.ZERO : left;
    }

    private void prune(Instant now) {
        byKey.values().removeIf(f -> f.last().plus(FORGET_AFTER).isBefore(now));
        while (byKey.size() >= MAX_KEYS) {
            byKey.entrySet().stream().min(Comparator.comparing(e -> e.getValue().last()))
                    .ifPresent(e -> byKey.remove(e.getKey(), e.getValue()));
        }
    }

    private static String addressKey(String address) {
        return "address:" + address;
    }

    private static String userKey(String user) {
        String u = user == null ? "" : user.toLowerCase(Locale.ROOT);
        return "user:" + (u.length() > 64 ? u.substring(0, 64) : u);
    }
}
