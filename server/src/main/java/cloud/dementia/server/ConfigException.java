package cloud.dementia.server;

/** A configuration value is wrong. The message is the one line printed before the process exits. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }
}
