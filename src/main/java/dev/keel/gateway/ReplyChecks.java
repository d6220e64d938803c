package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.ChatText;
import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The router's own checks of a text reply: {@code empty} (no text at all), {@code refusal} (the model
 * declines), {@code hedging} (it says it is unsure) and {@code too-short} (fewer tokens than the question
 * needs). Replies that call tools, or that the client's own {@code max_tokens} cut ({@code finish_reason:
 * length} when the request set a limit), are not judged on their text, unless they hold none. Phrases are matched in the opening of the reply only, where models put
 * them, so an answer that merely mentions "cannot" later is not a refusal. Stateless, thread-safe.
 */
final class ReplyChecks implements EscalationCheck {
    /** Refusals and hedges open a reply; later mentions are usually part of an answer. */
    static final int OPENING_CHARS = 200;
    /** Even a one-word answer ("Paris.") is two tokens; less is no answer. */
    static final int MIN_TOKENS_PER_QUESTION = 2;
    /** An explanation, comparison or proof in under this many tokens skipped the reasoning asked for. */
    static final int MIN_REASONED_TOKENS = 20;
    /** How models decline, in the languages of {@link PromptFeatures#REASONING_CUES}; lower case, straight apostrophes. */
    static final List<String> REFUSALS = List.of(
            "i can't", "i cannot", "i can not", "i'm unable", "i am unable", "i'm not able", "i am not able", "i won't be able",
            "i'm sorry, but", "i am sorry, but", "sorry, i can't", "as an ai", "i don't know", "i do not know", "unable to answer", "unable to help",
            "no puedo", "lo siento, pero", "no sé", "não posso", "não sei", "non posso", "non lo so", "je ne peux pas", "je ne sais pas",
            "désolé, mais", "ich kann nicht", "ich kann leider", "leider kann ich", "ich weiß es nicht", "ik kan niet", "не могу", "не знаю",
            "к сожалению, я не", "nie mogę", "我不能", "我无法", "我無法", "无法回答", "無法回答", "抱歉", "我不知道", "できません", "申し訳",
            "わかりません", "分かりません", "할 수 없", "모르겠");
    /** How models say they are unsure instead of answering. */
    static final List<String> HEDGES = List.of(
            "i'm not sure", "i am not sure", "i'm not certain", "i am not certain", "it's hard to say", "it is hard to say",
            "it's difficult to say", "i don't have enough information", "i do not have enough information", "i'm not confident",
            "no estoy seguro", "no tengo suficiente información", "não tenho certeza", "non sono sicuro", "je ne suis pas sûr",
            "je ne suis pas certain", "ich bin mir nicht sicher", "ich bin nicht sicher", "не уверен", "我不确定", "我不確定",
            "よくわかりません", "확실하지 않");

    @Override
    public Optional<String> failure(ObjectNode request, ObjectNode reply) {
        JsonNode choice = reply.path("choices").path(0);
        if (choice.path("message").path("tool_calls").size() > 0) return Optional.empty();
        String text = ChatText.reply(reply).strip();
        // No text is no answer, however it ended (a reasoning model can spend its whole limit thinking).
        if (text.isEmpty()) return Optional.of("empty");
        if ("length".equals(choice.path("finish_reason").asText()) && Billing.requestedOutput(request).isPresent()) return Optional.empty();
        Optional<String> declined = opening(text);
        if (declined.isPresent()) return declined;
        if (request.path("response_format").path("type").asText("text").startsWith("json")) return Optional.empty();
        PromptFeatures.Ask asked = PromptFeatures.Ask.of(request);
        long needed = (long) MIN_TOKENS_PER_QUESTION * Math.max(1, asked.questions()) + (asked.reasoningCues() > 0 ? MIN_REASONED_TOKENS : 0);
        return Tokens.count(text) < needed ? Optional.of("too-short") : Optional.empty();
    }

    /** {@code refusal} or {@code hedging} when the first {@link #OPENING_CHARS} characters of {@code text} decline or hedge. */
    static Optional<String> opening(String text) {
        String stripped = text.strip();
        String opening = Normalizer.normalize(stripped.length() > OPENING_CHARS ? stripped.substring(0, OPENING_CHARS) : stripped, Normalizer.Form.NFKC)
                .toLowerCase(Locale.ROOT).replace('’', '\'');
        if (REFUSALS.stream().anyMatch(opening::contains)) return Optional.of("refusal");
        if (HEDGES.stream().anyMatch(opening::contains)) return Optional.of("hedging");
        return Optional.empty();
    }
}
