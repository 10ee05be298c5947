package cloud.dementia.admin;

/**
 * Checks the console login. The server implements it with its stored admin credentials; the console never sees
 * how they are kept.
 */
@FunctionalInterface
public interface AdminAuthenticator {

    /** @return whether user and password open the console (compared in constant time by the implementation) */
    boolean accepts(String user, String password);
}
