package cloud.dementia.server;

/** The server cannot start. The message is the one line printed before the process exits with {@link #exitCode()}. */
public final class StartupException extends RuntimeException {

    private final int exitCode;

    public StartupException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
