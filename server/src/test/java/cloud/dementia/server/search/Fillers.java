package cloud.dementia.server.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import cloud.dementia.db.store.Contexts;

/** Realistic-looking contexts of a software team, five sentences each, the same for the same seed. */
final class Fillers {

    private static final String[] AREAS = {"billing", "search", "checkout", "onboarding", "reporting", "inventory", "notifications",
            "accounts", "shipping", "analytics", "catalog", "payments", "support", "exports", "scheduler", "gateway"};
    private static final String[] THINGS = {"the service", "the worker", "the nightly job", "the admin page", "the mobile app",
            "the public API", "the import pipeline", "the cache layer", "the message consumer", "the webhook handler"};
    private static final String[] VERBS = {"validates", "stores", "retries", "batches", "signs", "compresses", "indexes", "archives",
            "throttles", "audits", "renders", "caches", "encrypts", "deduplicates", "publishes"};
    private static final String[] OBJECTS = {"customer records", "invoice totals", "audit events", "shipment labels", "search queries",
            "image thumbnails", "price lists", "session tokens", "CSV uploads", "email digests", "feature toggles", "usage counters"};
    private static final String[] REASONS = {"because the vendor limits requests per minute", "so that support can trace every change",
            "since the old format broke the reports", "to keep the p99 latency under 200 ms", "as agreed in the architecture review",
            "because replays must not double-charge", "so that a restart loses nothing", "to stay within the storage budget"};
    private static final String[] WHEN = {"Every Monday", "After each deploy", "Before a release", "During the night window",
            "When a tenant is created", "On every retry", "Once a quarter", "At the end of a sprint"};

    private Fillers() {
    }

    static List<Contexts.NewContext> contexts(int n, long seed) {
        Random r = new Random(seed);
        List<Contexts.NewContext> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String area = pick(r, AREAS);
            String text = cap(pick(r, THINGS)) + " of " + area + " " + pick(r, VERBS) + " " + pick(r, OBJECTS) + " " + pick(r, REASONS) + ". "
                    + pick(r, WHEN) + " the " + area + " team reviews how " + pick(r, THINGS) + " " + pick(r, VERBS) + " " + pick(r, OBJECTS) + ". "
                    + "The " + pick(r, OBJECTS) + " are kept for " + (7 + r.nextInt(90)) + " days " + pick(r, REASONS) + ". "
                    + cap(pick(r, THINGS)) + " " + pick(r, VERBS) + " " + pick(r, OBJECTS) + " in batches of " + (10 + r.nextInt(990)) + ". "
                    + "Questions about " + area + " go to the " + area + " channel first.";
            out.add(new Contexts.NewContext(area + "-note-" + i, text, List.of(), Optional.of(r.nextInt(4) == 0 ? "important" : "reference")));
        }
        return out;
    }

    private static String pick(Random r, String[] words) {
        return words[r.nextInt(words.length)];
    }

    private static String cap(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
