package cloud.dementia.db.store;

/** The store refuses an operation for a reason the caller can act on; nothing was changed. */
public class StoreRuleException extends RuntimeException {

    public StoreRuleException(String message) {
        super(message);
    }
}
