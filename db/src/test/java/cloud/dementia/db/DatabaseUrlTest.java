package cloud.dementia.db;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DatabaseUrlTest {

    @Test
    void jdbcUrlIsKeptAsGiven() {
        ConnectionTarget t = DatabaseUrl.parse("jdbc:postgresql://db.internal:5432/app?user=svc&password=pw", "dementia-cloud");
        assertEquals("jdbc:postgresql://db.internal:5432/app?user=svc&password=pw", t.jdbcUrl());
        assertNull(t.user());
        assertEquals("dementia-cloud", t.driverProperties().getProperty("ApplicationName"));
        assertEquals("0", t.driverProperties().getProperty("prepareThreshold"));
    }

    @Test
    void neonStyleUriWithSslModeBecomesJdbcUrlAndCredentials() {
        ConnectionTarget t = DatabaseUrl.parse(
                "postgresql://neondb_owner:npg_AbC123@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
                "dementia-cloud");
        assertEquals("jdbc:postgresql://ep-cool-darkness-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
                t.jdbcUrl());
        assertEquals("neondb_owner", t.user());
        assertEquals("npg_AbC123", t.password());
        assertThat(t.describe(), not(containsString("npg_AbC123")));
    }

    @Test
    void escapedUserAndPasswordAreDecoded() {
        ConnectionTarget t = DatabaseUrl.parse("postgres://app%2Euser:p%40ss%3Aw%2Fo+rd%25@127.0.0.1:6432/my%20db", "x");
        assertEquals("app.user", t.user());
        assertEquals("p@ss:w/o+rd%", t.password());
        assertEquals("jdbc:postgresql://127.0.0.1:6432/my db", t.jdbcUrl());
    }

    @Test
    void malformedUrlsSayWhatIsWrong() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse("mysql://h/db", "x")).getMessage(),
                containsString("must start with postgres://"));
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse("postgres://h:5432", "x")).getMessage(),
                containsString("names no database"));
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse("postgres:///db", "x")).getMessage(),
                containsString("names no host"));
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse("jdbc:mysql://h/db", "x")).getMessage(),
                containsString("another database"));
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse("postgres://u:p w@h/db", "x")).getMessage(),
                containsString("percent-encode"));
        assertThat(assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.parse(" ", "x")).getMessage(),
                containsString("is empty"));
    }
}
