package dev.keel.config;

import java.time.Duration;

/**
 * The model router behind {@code "model": "auto"} ({@code router:} in keel.yaml): whether a reply
 * that fails a check is re-asked on the next tier ({@code escalate}), whether a streamed reply is held
 * back until its opening passed the checks so that it can be too ({@code escalate_streams}: it delays the
 * first token by the opening, so it is off unless asked for), and how long and how many
 * sessions per tenant keep the tier they were escalated to ({@code session_ttl_minutes} since the
 * session's last request, {@code max_sessions_per_tenant}, the least recently used going first).
 * The tiers themselves are the catalog models' {@code tier}.
 */
public record RouterConfig(boolean escalate, boolean escalateStreams, Duration sessionTtl, int maxSessionsPerTenant) {
    public static final RouterConfig DEFAULTS = new RouterConfig(true, false, Duration.ofMinutes(60), 10_000);

    static RouterConfig read(ConfigNode n) {
        return new RouterConfig(
                n.bool("escalate", DEFAULTS.escalate),
                n.bool("escalate_streams", DEFAULTS.escalateStreams),
                Duration.ofMinutes(n.integer("session_ttl_minutes", (int) DEFAULTS.sessionTtl.toMinutes(), 1, 7 * 24 * 60)),
                n.integer("max_sessions_per_tenant", DEFAULTS.maxSessionsPerTenant, 1, 1_000_000));
    }
}
