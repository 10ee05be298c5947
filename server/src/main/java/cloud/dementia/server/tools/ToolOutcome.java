package cloud.dementia.server.tools;

/**
 * What one invocation came to, classified once so each transport maps it in one place: MCP to a result or
 * {@code isError}, HTTP to a status code.
 */
public sealed interface ToolOutcome {

    /** The tool ran. */
    record Success(ToolOutput output) implements ToolOutcome {
    }

    /** The tool refused or failed; {@code kind} says whose fault and what HTTP status fits. */
    record Failure(Kind kind, String message, int retryAfterSeconds) implements ToolOutcome {
    }

    enum Kind {
        /** a bad argument (HTTP 400) */
        BAD_ARGUMENT("bad_argument", 400),
        /** the tool could not do it, for a reason the caller can act on (HTTP 200, success false) */
        TOOL_ERROR("error", 200),
        /** the caller's API key does not reach the project, or may not change anything (HTTP 403) */
        FORBIDDEN("forbidden", 403),
        /** no database connection in time, or the project's pool is suspended (HTTP 503 + Retry-After) */
        UNAVAILABLE("unavailable", 503),
        /** a bug or an unexpected database error (HTTP 500) */
        INTERNAL("internal_error", 500);

        private final String meterStatus;
        private final int httpStatus;

        Kind(String meterStatus, int httpStatus) {
            this.meterStatus = meterStatus;
            this.httpStatus = httpStatus;
        }

        public String meterStatus() {
            return meterStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }
}
