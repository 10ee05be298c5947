package cloud.dementia.server.console;

import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.logging.Logger;

import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * When a browser test fails, saves what the browser showed (PNG) and its HTML under
 * {@code server/target/browser-failures/}, named after the test, before anything is cleaned up.
 */
final class ScreenshotOnFailure implements AfterTestExecutionCallback {

    static final Path DIR = Path.of("target", "browser-failures");
    private static final Logger LOG = Logger.getLogger(ScreenshotOnFailure.class.getName());

    /** Implemented by a test class whose browser should be captured. */
    interface HasBrowser {
        Browser browser();
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (context.getExecutionException().isEmpty() || !(context.getTestInstance().orElse(null) instanceof HasBrowser test)
                || test.browser() == null) {
            return;
        }
        String name = context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
        try {
            Path png = test.browser().screenshot(DIR.resolve(name + ".png"));
            test.browser().pageSource(DIR.resolve(name + ".html"));
            Supplier<String> msg = () -> "browser test failed: screenshot " + png.toAbsolutePath() + " (url " + test.browser().driver().getCurrentUrl() + ")";
            LOG.warning(msg);
            System.err.println(msg.get());
        } catch (RuntimeException e) {
            LOG.warning("browser test failed and no screenshot could be taken: " + e.getMessage());
        }
    }
}
