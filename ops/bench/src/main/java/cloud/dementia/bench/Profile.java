package cloud.dementia.bench;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the server's CPU went during one phase, from its JFR recording: execution samples whose time falls in the
 * phase, counted by the frames they contain (inclusive) and by their top frame (self).
 */
final class Profile {

    /** The share of samples, by frame. */
    record Frames(int samples, Map<String, Double> inclusive, Map<String, Double> self) {
    }

    private Profile() {
    }

    static Frames of(Path recording, Instant from, Instant to, int top) throws Exception {
        Map<String, Integer> incl = new HashMap<>();
        Map<String, Integer> self = new HashMap<>();
        int samples = 0;
        try (RecordingFile f = new RecordingFile(recording)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null
                        || e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
                    continue;
                }
                samples++;
                List<RecordedFrame> frames = e.getStackTrace().getFrames();
                if (!frames.isEmpty()) {
                    self.merge(name(frames.get(0)), 1, Integer::sum);
                }
                Set<String> seen = new HashSet<>();
                for (RecordedFrame frame : frames) {
                    String n = name(frame);
                    if (seen.add(n)) {
                        incl.merge(n, 1, Integer::sum);
                    }
                }
            }
        }
        return new Frames(samples, share(incl, samples, top), share(self, samples, top));
    }

    private static Map<String, Double> share(Map<String, Integer> counts, int samples, int top) {
        Map<String, Double> out = new LinkedHashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> out.put(e.getKey(), 100.0 * e.getValue() / Math.max(1, samples)));
        return out;
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
