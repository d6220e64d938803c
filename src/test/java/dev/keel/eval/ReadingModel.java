package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.gateway.FakeLlmServer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for a language model behind {@link FakeLlmServer}, for evaluating prompt changes without a network: it
 * reads the grounded-answer request it is sent, answers the question with the context sentence that shares the most
 * words with it, and follows two of the system prompt's instructions as a model would: it cites the block ({@code [n]})
 * only when the system prompt asks for {@code [n]} citations, and declines with the prompt's "I don't know" wording
 * when no sentence shares enough words. With {@code noise} above 0 it answers, for that share of questions (chosen by
 * {@code seed}), with the second-best sentence instead, like a sampling model's run-to-run variation.
 */
final class ReadingModel {
    private static final Pattern BLOCK = Pattern.compile("<context id=\"(\\d+)\"[^>]*>\\s*(.*?)\\s*</context>", Pattern.DOTALL);
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}%]+");
    private static final Set<String> STOP = Set.of("the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "is", "are", "do", "does", "i", "my",
            "can", "how", "what", "when", "which", "who", "with", "be", "it", "if", "at", "by", "from", "as", "that", "this", "there", "any", "we", "you", "your");
    /** Words a sentence must share with the question to be offered as its answer. */
    private static final int MIN_SHARED_WORDS = 2;
    static final String DECLINE = "I don't know: the documents don't cover this.";

    private ReadingModel() {}

    /** The model as a fake provider's behaviour: streamed when the request asks for a stream, else one completion. */
    static FakeLlmServer.Behavior reading(long seed, double noise) {
        FakeLlmServer.Behavior whole = FakeLlmServer.okFrom(request -> reply(request, seed, noise));
        FakeLlmServer.Behavior streamed = FakeLlmServer.streamFrom(request -> reply(request, seed, noise));
        return (exchange, request) -> (request.path("stream").asBoolean() ? streamed : whole).respond(exchange, request);
    }

    static String reply(JsonNode request, long seed, double noise) {
        String system = "", question = "";
        List<String[]> sentences = new ArrayList<>();
        JsonNode messages = request.path("messages");
        int lastAssistant = -1;
        for (int i = 0; i < messages.size(); i++) if (messages.get(i).path("role").asText().equals("assistant")) lastAssistant = i;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String content = m.path("content").asText("");
            if (m.path("role").asText().equals("system")) system = content;
            if (i <= lastAssistant || !m.path("role").asText().equals("user")) continue;
            Matcher b = BLOCK.matcher(content);
            while (b.find()) for (String s : b.group(2).split("(?<=[.!?])\\s+")) sentences.add(new String[] {b.group(1), s.strip()});
            int q = content.lastIndexOf("Question:");
            if (q >= 0) question = content.substring(q + "Question:".length()).strip();
        }
        Set<String> asked = words(question);
        List<String[]> ranked = new ArrayList<>(sentences);
        ranked.sort((x, y) -> Integer.compare(shared(asked, y[1]), shared(asked, x[1])));
        if (ranked.isEmpty() || shared(asked, ranked.get(0)[1]) < MIN_SHARED_WORDS) return DECLINE;
        boolean noisy = noise > 0 && new SplittableRandom(seed ^ question.hashCode()).nextDouble() < noise && ranked.size() > 1;
        String[] pick = noisy ? ranked.get(1) : ranked.get(0);
        boolean cites = system.contains("[n]") || system.contains("[1]");
        String sentence = pick[1].replaceFirst("[.!?]$", "");
        return sentence + (cites ? " [" + pick[0] + "]" : "") + ".";
    }

    private static int shared(Set<String> asked, String sentence) {
        Set<String> w = words(sentence);
        w.retainAll(asked);
        return w.size();
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) if (!STOP.contains(m.group()) && m.group().length() > 1) out.add(m.group());
        return out;
    }
}
