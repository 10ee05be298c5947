package cloud.dementia.admin;

/** How much a pool (or the budget) needs an operator's eye; rows are coloured and sorted by it. */
enum Level {
    /** Serving work with room to spare. */
    OK,
    /** Worth a look: at its max, suspended, leaking, or callers timed out recently. */
    WARN,
    /** Callers are waiting for a connection right now. */
    CRIT;

    /** @return the CSS and JSON name */
    String css() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
