package dev.keel.agent;

import dev.keel.Keel;

/** Reads of the run store that tests need and the API does not offer. */
final class AgentLoopTestSupport {
    private AgentLoopTestSupport() {}

    /** The id of the run created last. */
    static String latestRunId(Keel keel) {
        return keel.database().withConnection(c -> {
            try (var ps = c.prepareStatement("SELECT id FROM agent_runs ORDER BY created_at DESC, rowid DESC LIMIT 1"); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        });
    }
}
