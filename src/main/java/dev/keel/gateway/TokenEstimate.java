package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.Usage;

/**
 * Token counts estimated with cl100k when a provider reports no usage: message contents plus
 * OpenAI's per-message framing (4 tokens each, 3 to prime the reply). Always flagged as estimated.
 */
final class TokenEstimate {
    private TokenEstimate() {}

    static Usage of(ObjectNode request, String completion) {
        long prompt = 3;
        for (JsonNode m : request.path("messages")) {
            prompt += 4;
            JsonNode content = m.path("content");
            if (content.isTextual()) prompt += Tokens.count(content.asText());
            else for (JsonNode part : content) prompt += Tokens.count(part.path("text").asText(""));
        }
        return new Usage(prompt, Tokens.count(completion), 0, true);
    }

    /**
     * Tokens of an embeddings {@code input}: a string, a list of strings, or pre-tokenised lists of
     * token ids (counted as they are).
     */
    static long ofInput(JsonNode input) {
        if (input == null || input.isNull()) return 0;
        if (input.isTextual()) return Tokens.count(input.asText());
        long n = 0;
        for (JsonNode item : input) n += item.isTextual() ? Tokens.count(item.asText()) : item.isArray() ? item.size() : 1;
        return n;
    }
}
