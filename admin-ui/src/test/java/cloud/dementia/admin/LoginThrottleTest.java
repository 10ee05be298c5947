package cloud.dementia.admin;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LoginThrottleTest {

    final TestClock clock = new TestClock();
    final LoginThrottle throttle = new LoginThrottle(clock);

    void fail(String address, String user, int times) {
        for (int i = 0; i < times; i++) {
            throttle.failed(address, user);
        }
    }

    @Test
    void threeFailuresCostNothingThenEachFurtherOneDoublesTheWait() {
        fail("10.0.0.1", "admin", 2);
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.1", "admin"));
        fail("10.0.0.1", "admin", 1);
        assertEquals(Duration.ofSeconds(1), throttle.waitFor("10.0.0.1", "admin"));
        fail("10.0.0.1", "admin", 1);
        assertEquals(Duration.ofSeconds(2), throttle.waitFor("10.0.0.1", "admin"));
        fail("10.0.0.1", "admin", 1);
        assertEquals(Duration.ofSeconds(4), throttle.waitFor("10.0.0.1", "admin"));
        clock.advance(Duration.ofMillis(2500));
        assertEquals(Duration.ofMillis(1500), throttle.waitFor("10.0.0.1", "admin"), "the wait runs from the last failure");
        clock.advance(Duration.ofMillis(1500));
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.1", "admin"));
    }

    @Test
    void theWaitNeverExceedsFiveMinutes() {
        fail("10.0.0.1", "admin", 40);
        assertEquals(Duration.ofMinutes(5), throttle.waitFor("10.0.0.1", "admin"));
    }

    @Test
    void anAddressIsSlowedForEveryUserAndAUserFromEveryAddressOnlyAfterManyFailures() {
        throttle.failed("10.0.0.5", "a");
        throttle.failed("10.0.0.5", "b");
        throttle.failed("10.0.0.5", "c");
        assertEquals(Duration.ofSeconds(1), throttle.waitFor("10.0.0.5", "admin"), "one address trying many users");

        fail("10.0.0.1", "ops", 5);
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.9", "ops"), "a few failures elsewhere do not lock the user out");
        for (int i = 0; i < LoginThrottle.USER_FREE_FAILURES - 5; i++) {
            throttle.failed("10.0.1." + i, "ops");
        }
        assertEquals(Duration.ofSeconds(1), throttle.waitFor("10.0.0.9", "ops"), "guessing one user's password from many addresses");
        assertEquals(Duration.ofSeconds(1), throttle.waitFor("10.0.0.9", "OPS"), "user names compare without case");
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.9", "admin"));
    }

    @Test
    void successClearsBothAndFailuresAreForgottenAfterFifteenMinutes() {
        fail("10.0.0.1", "admin", 5);
        throttle.succeeded("10.0.0.1", "admin");
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.1", "admin"));
        throttle.failed("10.0.0.1", "admin");
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.1", "admin"), "counting starts again");

        fail("10.0.0.2", "ops", 6);
        clock.advance(Duration.ofMinutes(16));
        throttle.failed("10.0.0.2", "ops");
        assertEquals(Duration.ZERO, throttle.waitFor("10.0.0.2", "ops"), "a failure 16 min after the last one counts as the first");
    }
}
