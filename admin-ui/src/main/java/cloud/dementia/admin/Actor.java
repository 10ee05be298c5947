package cloud.dementia.admin;

/**
 * Who did something, as the audit log records it.
 *
 * @param user    the admin user
 * @param channel {@code console} (a logged-in browser) or {@code api} (HTTP Basic or a console session calling the API)
 * @param address the client's remote address
 */
record Actor(String user, String channel, String address) {

    @Override
    public String toString() {
        return user + " (" + channel + ", " + address + ")";
    }
}
