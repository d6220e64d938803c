package dev.keel.rag;

import dev.keel.index.ChunkIndex;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * Turns a follow-up question into one that can be searched on its own. With a language model, the
 * model rewrites every question of a conversation that has history (its reply is used when it is a
 * single non-empty line of bounded length; otherwise the offline rewrite is used). Offline, a
 * question that refers back (a pronoun or demonstrative, a continuation such as "what about", or
 * fewer than two content words) gets the previous standalone question appended as context. A
 * question without history is never changed. Thread-safe.
 */
final class FollowUpRewriter {
    /** What a rewrite produced, and how: {@code none} (no history), {@code kept}, {@code appended}, {@code model}. */
    record Rewrite(String standalone, boolean followUp, String method) {}

    /** Words that point back at something said earlier (English; the model path handles any language). */
    private static final Set<String> REFERRING = Set.of("it", "its", "it's", "they", "them", "their", "theirs", "this", "that", "these",
            "those", "he", "him", "his", "she", "her", "there", "one", "ones", "same", "above", "former", "latter", "else", "also");
    /** Openings that continue the previous question rather than start a new one. */
    private static final Pattern CONTINUATION = Pattern.compile("^(and|but|also|so|then|what about|how about|and what|and how|or)\\b.*",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    /** Question and auxiliary words: they ask, they don't name a subject. */
    private static final Set<String> ASKING = Set.of("how", "what", "when", "where", "which", "who", "whom", "whose", "why", "do", "does",
            "did", "can", "could", "should", "would", "much", "many", "often", "long", "i", "we", "you", "me");
    /** A question with fewer analysed content terms than this cannot name its subject by itself ("why?", "how much?"). */
    private static final int MIN_CONTENT_TERMS = 2;
    /** The longest rewrite accepted from a model: a question, not an essay (or an injected instruction). */
    static final int MAX_REWRITE_CHARS = 1_000;
    /** Output tokens a model may spend on a rewrite: a long question fits, an essay is cut (and then refused as a rewrite). */
    static final int MAX_REWRITE_TOKENS = 200;
    private static final Pattern LINE_BREAKS = Pattern.compile("[\\r\\n\\u0085\\u2028\\u2029]+");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}']+");

    static final String REWRITE_INSTRUCTIONS = """
            Rewrite the user's follow-up question so that it can be understood without the conversation: replace pronouns and \
            references with what they refer to, keep the language and the intent, do not answer it. If it is already \
            self-contained, return it unchanged. Reply with the question only, on one line.""";

    /** How an offline rewrite joins a follow-up to the question it follows. */
    private static final String FOLLOW_UP_TO = " (follow-up to: ";

    private final ChunkIndex index;
    private final Set<String> askingTerms;

    FollowUpRewriter(ChunkIndex index) {
        this.index = index;
        this.askingTerms = Set.copyOf(index.terms(String.join(" ", ASKING)));
    }

    /** The offline rewrite. */
    Rewrite rewrite(String question, Conversation history) {
        if (history.turns().isEmpty()) return new Rewrite(question, false, "none");
        if (!refersBack(question)) return new Rewrite(question, false, "kept");
        return new Rewrite(question + FOLLOW_UP_TO + subject(history.last().standalone()) + ")", true, "appended");
    }

    /**
     * The rewrite by {@code model} ({@code (system, user) → reply}); a failure or an unusable reply
     * falls back to the offline rewrite, with method {@code model-fallback}.
     */
    Rewrite rewrite(String question, Conversation history, BiFunction<String, String, String> model) {
        if (history.turns().isEmpty()) return new Rewrite(question, false, "none");
        String reply;
        try {
            reply = model.apply(REWRITE_INSTRUCTIONS, conversationText(history) + "\nFollow-up question: " + question);
        } catch (RuntimeException e) {
            reply = null;
        }
        String line = reply == null ? "" : reply.strip();
        if (line.isEmpty() || line.contains("\n") || line.length() > MAX_REWRITE_CHARS) {
            Rewrite offline = rewrite(question, history);
            return new Rewrite(offline.standalone(), offline.followUp(), "model-fallback");
        }
        return new Rewrite(line, !line.equals(question), "model");
    }

    /**
     * The question a standalone one is about: an offline rewrite's own subject, so a chain of
     * follow-ups refers to the question that started it instead of nesting one inside another.
     */
    private static String subject(String standalone) {
        int at = standalone.indexOf(FOLLOW_UP_TO);
        return at < 0 || !standalone.endsWith(")") ? standalone : standalone.substring(at + FOLLOW_UP_TO.length(), standalone.length() - 1);
    }

    /** The conversation as the model reads it: the summary of older turns, then the recent ones. */
    static String conversationText(Conversation history) {
        StringBuilder out = new StringBuilder();
        if (!history.summary().isEmpty()) out.append("Earlier in the conversation:\n").append(history.summary()).append("\n\n");
        for (Conversation.Turn t : history.turns()) out.append("User: ").append(oneLine(t.question())).append("\nAssistant: ").append(oneLine(t.answer())).append('\n');
        return out.toString();
    }

    /** A remembered text on one line, so that no question or answer can write a turn of its own ("\nAssistant: …"). */
    static String oneLine(String text) {
        return LINE_BREAKS.matcher(text).replaceAll(" ");
    }

    private boolean refersBack(String question) {
        if (CONTINUATION.matcher(question.strip()).matches()) return true;
        var words = WORD.matcher(question.toLowerCase(Locale.ROOT));
        while (words.find()) if (REFERRING.contains(words.group())) return true;
        List<String> content = index.terms(question).stream().filter(t -> !askingTerms.contains(t)).toList();
        return content.size() < MIN_CONTENT_TERMS;
    }
}
