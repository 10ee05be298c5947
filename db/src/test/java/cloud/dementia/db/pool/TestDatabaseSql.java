package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

import cloud.dementia.db.testing.TestDatabase;

final class TestDatabaseSql {
    private TestDatabaseSql() {
    }

    static void run(TestDatabase.Fresh db, String... schemas) {
        var props = db.target().withApplicationName("dementia-test-setup").driverProperties();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), props); Statement st = c.createStatement()) {
            for (String s : schemas) {
                st.execute("CREATE SCHEMA IF NOT EXISTS \"" + s + "\"");
                st.execute("CREATE TABLE IF NOT EXISTS \"" + s + "\".t (v text)");
                st.execute("INSERT INTO \"" + s + "\".t VALUES ('" + s + "')");
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Terminates every backend of the fixture's application name. */
    static int terminate(TestDatabase.Fresh db) {
        return TestDatabase.get().terminate(db.target().applicationName());
    }
}
