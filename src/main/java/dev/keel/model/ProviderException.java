package dev.keel.model;

import java.time.Duration;

/**
 * A failed upstream call, classified once where it happened. Rate-limited, unavailable and timeout
 * failures are retryable; bad requests, authentication failures, content filtering and malformed
 * responses are not. The message never contains the provider's API key.
 */
public final class ProviderException extends RuntimeException {
    /** Why the call failed. */
    public enum Kind {
        RATE_LIMITED(true), UNAVAILABLE(true), TIMEOUT(true), BAD_REQUEST(false), AUTHENTICATION(false),
        CONTENT_FILTERED(false), MALFORMED_RESPONSE(false);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        public boolean retryable() {
            return retryable;
        }
    }

    private final Kind kind;
    private final String provider;
    private final int upstreamStatus;
    private final Duration retryAfter;
    private final String upstreamBody;

    public ProviderException(Kind kind, String provider, int upstreamStatus, String message, Duration retryAfter, String upstreamBody) {
        super(provider + ": " + message);
        this.kind = kind;
        this.provider = provider;
        this.upstreamStatus = upstreamStatus;
        this.retryAfter = retryAfter;
        this.upstreamBody = upstreamBody;
    }

    public Kind kind() {
        return kind;
    }

    public String provider() {
        return provider;
    }

    /** The upstream HTTP status, or 0 when none was received. */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** The provider's Retry-After, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * Whether the upstream does not know the model: a 404 on a model call, which is how OpenAI,
     * OpenAI-compatible servers and Anthropic answer an unknown or inaccessible model id.
     */
    public boolean modelNotFound() {
        return kind == Kind.BAD_REQUEST && upstreamStatus == 404;
    }

    /** The upstream error body for 4xx pass-through (the client's own mistake), else null. */
    public String upstreamBody() {
        return upstreamBody;
    }
}
