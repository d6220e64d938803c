package dev.keel.config;

/**
 * Conversation memory of {@code /v1/answer} sessions: how many recent turns are kept verbatim, how
 * many tokens the summary of older turns may take, how long an idle session lives and how many
 * typical sessions each tenant's pool holds (the least recently used are forgotten first).
 */
public record SessionConfig(int turns, int summaryTokens, int idleMinutes, int maxSessions) {
    public static final SessionConfig DEFAULTS = new SessionConfig(6, 400, 60, 10_000);

    static SessionConfig read(ConfigNode n) {
        return new SessionConfig(
                n.integer("turns", DEFAULTS.turns, 1, 100),
                n.integer("summary_tokens", DEFAULTS.summaryTokens, 0, 10_000),
                n.integer("idle_minutes", DEFAULTS.idleMinutes, 1, 7 * 24 * 60),
                n.integer("max_sessions", DEFAULTS.maxSessions, 1, 10_000_000));
    }
}
