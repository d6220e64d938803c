package dev.keel.model;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * One call to a provider: the request's deadline (shared by its retries and fallbacks), the
 * model's timeout overrides (null: the provider's own), the tenant the call is made for, and where
 * the provider reports the upstream's request id (its {@code x-request-id} response header) as
 * soon as a response arrives. {@code traceHeaders} are the W3C trace context headers
 * ({@code traceparent}, {@code tracestate}) that name the call's span as the upstream's parent;
 * empty when the request has no trace context. {@code upstreamTime} is told, in nanoseconds, the upstream's own time
 * in each exchange whose response was read to its end: from the request's last byte sent to the response's last
 * byte received, so the caller can tell the upstream's time from its own; a stream tells it in parts, as its chunks
 * arrive (the parts add up).
 */
public record CallContext(Deadline deadline, Duration firstByteTimeout, Duration totalTimeout, String tenant, Consumer<String> upstreamRequestId,
                          Map<String, String> traceHeaders, LongConsumer upstreamTime) {
    /** The trace attribute holding the request id of the latest upstream response of the current attempt. */
    public static final String UPSTREAM_REQUEST_ID = "upstream.request_id";

    /** A call that does not ask for the upstream's time. */
    public CallContext(Deadline deadline, Duration firstByteTimeout, Duration totalTimeout, String tenant, Consumer<String> upstreamRequestId,
                       Map<String, String> traceHeaders) {
        this(deadline, firstByteTimeout, totalTimeout, tenant, upstreamRequestId, traceHeaders, nanos -> { });
    }

    /** The first-byte timeout: the model's override, else {@code providerDefault}. */
    public Duration firstByte(Duration providerDefault) {
        return firstByteTimeout != null ? firstByteTimeout : providerDefault;
    }

    /** The total timeout: the model's override, else {@code providerDefault}. */
    public Duration total(Duration providerDefault) {
        return totalTimeout != null ? totalTimeout : providerDefault;
    }
}
