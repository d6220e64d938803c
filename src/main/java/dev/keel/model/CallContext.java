package dev.keel.model;

import java.time.Duration;

/**
 * One call to a provider: the request's deadline (shared by its retries and fallbacks), the
 * model's timeout overrides (null: the provider's own) and the tenant the call is made for.
 */
public record CallContext(Deadline deadline, Duration firstByteTimeout, Duration totalTimeout, String tenant) {
    /** The first-byte timeout: the model's override, else {@code providerDefault}. */
    public Duration firstByte(Duration providerDefault) {
        return firstByteTimeout != null ? firstByteTimeout : providerDefault;
    }

    /** The total timeout: the model's override, else {@code providerDefault}. */
    public Duration total(Duration providerDefault) {
        return totalTimeout != null ? totalTimeout : providerDefault;
    }
}
