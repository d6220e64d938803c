package dev.keel.model;

/** A request refused before any upstream call, rendered by the HTTP layer in OpenAI's error shape {@code {"error":{"type","message","param","code"}}}. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private long retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static ApiException badRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, "invalid_value");
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found_error", message, null, "not_found");
    }

    /** Adds a Retry-After hint (seconds) for 429s. */
    public ApiException retryAfter(long seconds) {
        this.retryAfterSeconds = seconds;
        return this;
    }

    /** The same error naming another request field (an endpoint whose fields differ from the layer that refused). */
    public ApiException withParam(String param) {
        return new ApiException(status, type, getMessage(), param, code).retryAfter(retryAfterSeconds);
    }

    /** Seconds the client should wait, or 0. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
