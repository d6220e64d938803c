package dev.keel.guard;

/** What the guard decided about one text: let it pass, pass it with PII replaced, or refuse it. */
public sealed interface GuardVerdict {
    /** The text passes unchanged. */
    record Allow() implements GuardVerdict {}

    /** The text passes as {@code text}, with the entities replaced by the placeholders of {@code redaction}. */
    record Redact(String text, Redaction redaction) implements GuardVerdict {}

    /**
     * The text is refused: {@code code} is machine-readable ({@code prompt_injection},
     * {@code pii_blocked}, {@code off_topic}, {@code secret_leak}, {@code system_prompt_leak}…) and
     * {@code message} tells the user what happened and what to do next.
     */
    record Block(String code, String message) implements GuardVerdict {}

    /** The verdict's name in the API: allow, redact or block. */
    default String name() {
        return switch (this) {
            case Allow a -> "allow";
            case Redact r -> "redact";
            case Block b -> "block";
        };
    }
}
