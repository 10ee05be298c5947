package cloud.dementia.server.tools;

/** A call the caller's API key may not make (a project outside its scope, a write with a read-only key): 403 / {@code isError}. */
public final class ToolForbiddenException extends RuntimeException {

    public ToolForbiddenException(String message) {
        super(message, null, false, false);
    }
}
