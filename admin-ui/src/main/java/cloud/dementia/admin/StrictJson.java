package cloud.dementia.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON setup of the service, for every module that reads or writes JSON (the console's API here, the server's
 * tools, {@code /execute} and MCP): ISO-8601 times, and what it reads is one JSON value and nothing after it, with every
 * key of an object once. {@code {"name":"a","name":"b"}} would otherwise mean `b` to us and may mean `a` to whatever
 * checked the request before it reached us.
 */
public final class StrictJson {

    private StrictJson() {
    }

    /** @return a mapper with the strict setup and Jackson's default nesting limit */
    public static JsonMapper.Builder builder() {
        return builder(StreamReadConstraints.DEFAULT_MAX_DEPTH);
    }

    /** @return a mapper with the strict setup that refuses JSON nested deeper than {@code maxDepth} */
    public static JsonMapper.Builder builder(int maxDepth) {
        return JsonMapper.builder(JsonFactory.builder()
                        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).build())
                        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                        .build())
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }
}
