package dev.keel.rag;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.keel.config.SessionConfig;
import dev.keel.ingest.Sentences;
import dev.keel.ingest.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * In-process conversation memory for {@code session_id}s, scoped by tenant and API key: the same id
 * used by two keys (of one tenant or two) names two unrelated conversations, so no key reads or
 * writes another's. Each tenant has its own pool, bounded in characters (about {@code max_sessions}
 * conversations of {@value #TYPICAL_SESSION_CHARS} characters; longer ones count more), so one
 * tenant's conversations never push out another's. Keeps the last {@code turns} turns of a session and
 * folds older ones into an extractive summary (each old turn's standalone question and the first
 * sentence of its answer, newest kept when the summary is over its token budget). Sessions expire
 * after being idle and the least recently used go first past {@code max_sessions}; nothing survives
 * a restart. Thread-safe: turns recorded concurrently on one session are all kept, in arrival order.
 */
public final class Sessions {
    /** Session ids are opaque to Keel but bounded and printable, so they are safe as keys and in traces. */
    private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    /** The rule of {@link #isValidId}, for error messages. */
    public static final String ID_RULE = "1 to 128 characters of letters, digits and . _ : -";
    /** A remembered answer is cut to this: enough for the context of a follow-up, bounded per turn. */
    static final int MAX_REMEMBERED_CHARS = 2_000;
    /** A few short turns and a summary: what a tenant's pool of {@code max_sessions} is sized for. */
    static final int TYPICAL_SESSION_CHARS = 4_000;
    /** Tenants with conversations in memory at once; the least recently active go first past it. */
    static final int MAX_TENANTS = 10_000;

    /** One conversation within its tenant's pool: the key that holds it (null in open local use) and its id. */
    private record SessionKey(String keyId, String sessionId) {}

    private final SessionConfig config;
    private final Ticker clock;
    private final Cache<String, Cache<SessionKey, Conversation>> tenants;

    public Sessions(SessionConfig config) {
        this(config, Ticker.systemTicker());
    }

    Sessions(SessionConfig config, Ticker clock) {
        this.config = config;
        this.clock = clock;
        this.tenants = Caffeine.newBuilder().maximumSize(MAX_TENANTS).expireAfterAccess(Duration.ofMinutes(config.idleMinutes()))
                .ticker(clock).executor(Runnable::run).build();
    }

    private Cache<SessionKey, Conversation> pool(String tenant) {
        return tenants.get(tenant, t -> Caffeine.newBuilder()
                .maximumWeight((long) config.maxSessions() * TYPICAL_SESSION_CHARS)
                .weigher((SessionKey k, Conversation c) -> Math.max(1, c.chars()))
                .expireAfterAccess(Duration.ofMinutes(config.idleMinutes())).ticker(clock).executor(Runnable::run).build());
    }

    /** Whether {@code id} is a usable session id: 1 to 128 letters, digits or {@code . _ : -}. */
    public static boolean isValidId(String id) {
        return id != null && VALID_ID.matcher(id).matches();
    }

    /** The conversation {@code sessionId} of {@code keyId} (null: open local use) in {@code tenant}; empty when new or expired. */
    public Conversation get(String tenant, String keyId, String sessionId) {
        Conversation c = pool(tenant).getIfPresent(new SessionKey(keyId, sessionId));
        return c == null ? Conversation.EMPTY : c;
    }

    /** Appends a turn, folding the oldest turns into the summary once there are more than the configured window. */
    public void record(String tenant, String keyId, String sessionId, Conversation.Turn turn) {
        Conversation.Turn kept = new Conversation.Turn(cut(turn.question()), cut(turn.standalone()), cut(turn.answer()));
        pool(tenant).asMap().compute(new SessionKey(keyId, sessionId), (k, c) -> append(c == null ? Conversation.EMPTY : c, kept));
    }

    private Conversation append(Conversation c, Conversation.Turn turn) {
        List<Conversation.Turn> turns = new ArrayList<>(c.turns());
        turns.add(turn);
        String summary = c.summary();
        while (turns.size() > config.turns()) summary = fold(summary, turns.remove(0));
        return new Conversation(turns, summary);
    }

    private String fold(String summary, Conversation.Turn old) {
        List<String> answerSentences = Sentences.split(old.answer());
        String line = FollowUpRewriter.oneLine("Q: " + old.standalone() + " A: " + (answerSentences.isEmpty() ? old.answer() : answerSentences.get(0)));
        String joined = summary.isEmpty() ? line : summary + "\n" + line;
        while (Tokens.count(joined) > config.summaryTokens()) {
            int newline = joined.indexOf('\n');
            if (newline < 0) return "";
            joined = joined.substring(newline + 1);
        }
        return joined;
    }

    private static String cut(String s) {
        return s.length() <= MAX_REMEMBERED_CHARS ? s : s.substring(0, MAX_REMEMBERED_CHARS) + "…";
    }
}
