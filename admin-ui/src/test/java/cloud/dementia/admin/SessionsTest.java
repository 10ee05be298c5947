package cloud.dementia.admin;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionsTest {

    final TestClock clock = new TestClock();
    final Sessions sessions = new Sessions(clock);

    @Test
    void idsAreRandom256BitValuesAndEachSessionHasItsOwnCsrfToken() {
        Sessions.Created a = sessions.create("admin");
        Sessions.Created b = sessions.create("admin");
        assertEquals(43, a.id().length(), "32 bytes, URL-safe base64 without padding");
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.session().csrf(), b.session().csrf());
        assertNotEquals(a.id(), a.session().csrf());
        assertFalse(a.session().key().contains(a.id()), "the map is keyed by a hash of the id, not the id");
        assertEquals("admin", sessions.find(a.id()).orElseThrow().user());
        assertTrue(sessions.find("not-a-session").isEmpty());
        assertTrue(sessions.find(a.id() + "x").isEmpty());
    }

    @Test
    void aSessionEndsAfterAnHourUnusedOrTwelveHoursAfterLogin() {
        Sessions.Created idle = sessions.create("admin");
        Sessions.Created busy = sessions.create("admin");
        for (int i = 0; i < 12; i++) {
            clock.advance(Duration.ofMinutes(59));
            assertTrue(sessions.find(busy.id()).isPresent(), "used every 59 minutes");
        }
        assertTrue(sessions.find(idle.id()).isEmpty(), "unused for more than an hour");
        clock.advance(Duration.ofMinutes(59));
        assertTrue(sessions.find(busy.id()).isEmpty(), "more than 12 hours after login");
    }

    @Test
    void logoutEndsTheSessionAndANoticeIsShownOnce() {
        Sessions.Created c = sessions.create("admin");
        c.session().notice(Notice.done("resized"));
        assertEquals("resized", c.session().takeNotice().text());
        assertEquals(null, c.session().takeNotice());
        sessions.end(c.session());
        assertTrue(sessions.find(c.id()).isEmpty());
    }

    @Test
    void theStoreIsBounded() {
        for (int i = 0; i < Sessions.MAX + 50; i++) {
            sessions.create("admin");
        }
        assertTrue(sessions.size() <= Sessions.MAX);
    }
}
