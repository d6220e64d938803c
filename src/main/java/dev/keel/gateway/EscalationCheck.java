package dev.keel.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * A measurable test of a reply that, when it fails, makes the router re-ask the request on the
 * next tier (a request to {@code "model": "auto"}). The router runs its own checks (refusal or
 * hedging, too short for the question, invalid JSON for a requested format) and then any check its
 * caller passes, such as the answer path's grounding score. Implementations read the reply and
 * must not call a model; they must be thread-safe. The failure label is recorded in
 * {@code x-keel-route}, the ledger and the trace, so it must be a fixed word such as
 * {@code low-grounding}, never text of the request or reply: labels other than 1-32 characters of
 * {@code [a-z0-9-]} are recorded as {@value ModelRouter#UNNAMED_CHECK}.
 */
@FunctionalInterface
public interface EscalationCheck {
    /** No check beyond the router's own. */
    EscalationCheck NONE = (request, reply) -> Optional.empty();

    /**
     * Why {@code reply} (the chat completion's JSON) does not serve {@code request}, as a label, or
     * empty when it passes.
     */
    Optional<String> failure(ObjectNode request, ObjectNode reply);
}
