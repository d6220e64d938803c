package dev.keel.provider;

import dev.keel.model.ProviderException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One Resilience4j circuit breaker per provider. A breaker opens when at least half of the calls
 * of the last 30 seconds failed (with at least 10 calls, so a provider failing 10 times in a row
 * opens it at once, while a burst of a few errors under heavy traffic does not); while open its
 * provider is skipped without waiting; after the provider's open duration
 * one probe call is let through (half-open) and closes or re-opens it. Only ill health counts as
 * failure: 5xx answers, timeouts, connection failures and unreadable replies. Rate limits (429: the provider is well,
 * this caller is over its quota), credentials, client mistakes and content filters count neither as
 * failures nor as successes. State is the gauge
 * {@code keel_provider_breaker_state{provider}} (0 closed, 1 half-open, 2 open). Thread-safe.
 */
public final class CircuitBreakers {
    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();

    public CircuitBreakers(Map<String, Integer> openSeconds, MeterRegistry registry) {
        openSeconds.forEach((provider, seconds) -> {
            CircuitBreaker cb = CircuitBreaker.of(provider, CircuitBreakerConfig.custom()
                    .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                    .slidingWindowSize(30)
                    .minimumNumberOfCalls(10)
                    .failureRateThreshold(50)
                    .waitDurationInOpenState(Duration.ofSeconds(seconds))
                    .permittedNumberOfCallsInHalfOpenState(1)
                    .recordException(CircuitBreakers::illHealth)
                    .ignoreException(e -> !illHealth(e))
                    .build());
            breakers.put(provider, cb);
            Gauge.builder("keel.provider.breaker.state", cb, b -> switch (b.getState()) {
                case CLOSED, DISABLED, METRICS_ONLY -> 0;
                case HALF_OPEN -> 1;
                case OPEN, FORCED_OPEN -> 2;
            }).description("Circuit breaker state: 0 closed, 1 half-open, 2 open").tag("provider", provider).register(registry);
        });
    }

    /** Unavailable (5xx, connection failures), timeouts and unreadable replies: the provider itself is unwell. */
    private static boolean illHealth(Throwable e) {
        return e instanceof ProviderException p && switch (p.kind()) {
            case UNAVAILABLE, TIMEOUT, MALFORMED_RESPONSE -> true;
            case RATE_LIMITED, AUTHENTICATION, BAD_REQUEST, CONTENT_FILTERED -> false;
        };
    }

    CircuitBreaker of(String provider) {
        return breakers.get(provider);
    }

    /** Closes every breaker and forgets its history (an operator's "the provider is fixed"). */
    public void resetAll() {
        breakers.values().forEach(CircuitBreaker::reset);
    }

    /** Provider name → breaker state (closed, open, half_open), for readiness details. */
    public Map<String, String> states() {
        Map<String, String> out = new LinkedHashMap<>();
        breakers.forEach((name, cb) -> out.put(name, cb.getState().name().toLowerCase()));
        return out;
    }
}
