package cloud.dementia.admin;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.thymeleaf.TemplateEngine;
import org.thymeleaf.context.Context;
import org.thymeleaf.templatemode.TemplateMode;
import org.thymeleaf.templateresolver.ClassLoaderTemplateResolver;

/**
 * The console's Thymeleaf templates, read once from {@code dementia-admin/templates/} in the jar. A page marks the
 * parts that change while it is open with {@code data-live} (and an id); {@link #renderLive} renders only those, from
 * the same template and model, for the page's script to swap in: one source of markup for a page and its refresh.
 */
final class Templates {

    private final TemplateEngine engine = new TemplateEngine();

    Templates() {
        ClassLoaderTemplateResolver resolver = new ClassLoaderTemplateResolver(Templates.class.getClassLoader());
        resolver.setPrefix("dementia-admin/templates/");
        resolver.setSuffix(".html");
        resolver.setTemplateMode(TemplateMode.HTML);
        resolver.setCharacterEncoding("UTF-8");
        resolver.setCacheable(true);
        engine.setTemplateResolver(resolver);
    }

    /** Elements of a page that its script refreshes in place. */
    static final Set<String> LIVE = Set.of("[data-live]");

    String render(String template, Map<String, Object> model) {
        return engine.process(template, context(model));
    }

    /** @return the header's {@code data-live} elements (the budget in the corner), then the page's, in the page's order */
    String renderLive(String template, Map<String, Object> model) {
        Context context = context(model);
        return engine.process("layout", LIVE, context) + engine.process(template, LIVE, context);
    }

    private static Context context(Map<String, Object> model) {
        Context context = new Context(Locale.ROOT);
        context.setVariables(model);
        return context;
    }
}
