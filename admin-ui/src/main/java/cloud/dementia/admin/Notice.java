package cloud.dementia.admin;

/**
 * A one-line message shown once at the top of the next page (after a redirect).
 *
 * @param ok   whether it reports success (else a refusal or an error)
 * @param text the message
 */
record Notice(boolean ok, String text) {

    static Notice done(String text) {
        return new Notice(true, text);
    }

    static Notice refused(String text) {
        return new Notice(false, text);
    }
}
