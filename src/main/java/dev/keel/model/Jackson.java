package dev.keel.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Jackson mappers for the request path. Requests run on virtual threads, where Jackson's default
 * thread-local buffer recycling recycles nothing (each virtual thread is new), so every parse and
 * write would allocate fresh buffers; these mappers share one bounded pool instead (bounded, so a burst
 * of concurrent requests does not leave its peak of buffers behind for the collector to keep copying). They never
 * close the streams they read: callers do, after draining a pooled connection's body.
 */
public final class Jackson {
    private static final JsonFactory FACTORY = JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedBoundedPool())
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();

    private Jackson() {}

    /** A new mapper over the shared, pooled factory; configure it before first use. */
    public static ObjectMapper mapper() {
        return new JsonMapper(FACTORY);
    }

    /** The HTTP API's JSON: snake_case fields, ISO-8601 dates, unknown fields ignored when reading. */
    public static ObjectMapper api() {
        return mapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .findAndRegisterModules()
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
