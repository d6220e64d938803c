package dev.keel.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Jackson mappers for the request path. Requests run on virtual threads, where Jackson's default
 * thread-local buffer recycling recycles nothing (each virtual thread is new), so every parse and
 * write would allocate fresh buffers; these mappers share one concurrent pool instead. They never
 * close the streams they read: callers do, after draining a pooled connection's body.
 */
public final class Jackson {
    private static final JsonFactory FACTORY = JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();

    private Jackson() {}

    /** A new mapper over the shared, pooled factory; configure it before first use. */
    public static ObjectMapper mapper() {
        return new JsonMapper(FACTORY);
    }
}
