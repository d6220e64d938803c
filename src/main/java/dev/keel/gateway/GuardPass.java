package dev.keel.gateway;

import dev.keel.config.GuardConfig;
import dev.keel.config.GuardPolicy;
import dev.keel.guard.Redaction;

/**
 * What the input guard decided about one client request, carried by its {@link ChatGateway.Caller}
 * to every model call made for it: the caller's guard policy (resolved once per request; null: the
 * caller's own, resolved when needed), the caller's profile, the request's placeholders (the model
 * sees them, the reply gets the values back), and whether a policy keeps the request on private
 * providers. A caller with a pass is not checked again, so an answer's model calls do not score the
 * documents in their prompts as the caller's input. Holds raw PII (in its redaction): never logged,
 * traced or cached. Not thread-safe: one request owns it.
 */
public record GuardPass(GuardPolicy policy, GuardConfig.Profile profile, Redaction redaction, boolean privateOnly) {}
