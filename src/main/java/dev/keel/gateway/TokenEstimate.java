package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.Usage;

/**
 * Token counts estimated with cl100k: a ceiling of what a provider bills for a prompt (everything
 * it reads, OpenAI's per-message framing of 4 tokens each and 3 to prime the reply, a margin for
 * other tokenizers), used to reserve a request's cost and to bill a call whose provider reported no
 * usage. Always flagged as estimated.
 */
final class TokenEstimate {
    /** Other tokenizers (Anthropic's, Llama's) count up to about a fifth more than cl100k on English text. */
    private static final double OTHER_TOKENIZERS_MARGIN = 1.25;
    /** A high-detail image is billed at up to about 1,600 tokens by Anthropic and 1,100-2,000 by GPT-4o. */
    static final long IMAGE_TOKENS = 2_000;

    /**
     * The protocol's own words that every request repeats (roles, content part and format types), counted once: a
     * message's role cost as much to count as a short prompt (~1.5% of a proxied request's CPU at maximum
     * throughput). A fixed set, so that no count depends on what another request sent.
     */
    private static final java.util.Map<String, Integer> PROTOCOL_WORDS = java.util.stream.Stream.of("", "system", "user", "assistant", "tool",
                    "developer", "function", "text", "image_url", "input_text", "input_image", "image", "json_schema", "json_object", "auto",
                    "none", "required")
            .collect(java.util.stream.Collectors.toUnmodifiableMap(w -> w, Tokens::count));

    private TokenEstimate() {}

    /** {@code text}'s cl100k tokens. */
    private static long tokens(String text) {
        Integer known = PROTOCOL_WORDS.get(text);
        return known != null ? known : Tokens.count(text);
    }

    /**
     * An upper bound of the prompt tokens a provider bills for {@code request}: every string it reads
     * (message text, names, tool calls and their arguments, tool and response-format schemas) with a
     * margin for other tokenizers, the message framing, and {@link #IMAGE_TOKENS} per image part.
     */
    static long promptCeiling(ObjectNode request) {
        return count(request, OTHER_TOKENIZERS_MARGIN);
    }

    /** A cl100k count raised by the margin for tokenizers that count more. */
    static long withMargin(long cl100kTokens) {
        return (long) Math.ceil(cl100kTokens * OTHER_TOKENIZERS_MARGIN);
    }

    /** The prompt's cl100k count, as {@link #promptCeiling} reads it but without the margin for other tokenizers. */
    static long prompt(ObjectNode request) {
        return count(request, 1);
    }

    private static long count(ObjectNode request, double margin) {
        long framing = 3;
        Tally tally = new Tally();
        for (JsonNode m : request.path("messages")) {
            framing += 4;
            tally.add(m);
        }
        for (String field : new String[] {"tools", "functions", "response_format", "tool_choice"}) {
            JsonNode v = request.get(field);
            if (v != null && !v.isNull()) tally.text += Tokens.count(v.toString());
        }
        return framing + (long) Math.ceil(tally.text * margin) + tally.images * IMAGE_TOKENS;
    }

    /**
     * The text tokens and image parts of messages, counted in one walk (a second walk for the images was ~0.8% of a
     * proxied request's CPU). An image counts as one only where providers read one: a part of a {@code content} array
     * (a message's, or a tool result's inside it). Anywhere else an object typed as an image is text like any other: a
     * whole message typed {@code "image"} hid its content from the ceiling, and with it from the cost cap, the
     * tokens-per-minute limit and the budget's reservation (attack review; the Anthropic translation sent that content
     * on). An image part's own fields are text too, all but its type and picture.
     */
    private static final class Tally {
        /** An image part's type and picture, which providers bill as the image, not as text. */
        private static final java.util.Set<String> IMAGE_FIELDS = java.util.Set.of("type", "image_url", "source");
        long text, images;

        void add(JsonNode message) {
            walk(message, false);
        }

        private void walk(JsonNode node, boolean contentPart) {
            if (node.isTextual()) {
                text += tokens(node.asText());
            } else if (node.isObject()) {
                boolean image = contentPart && isImage(node);
                if (image) images++;
                for (java.util.Map.Entry<String, JsonNode> field : node.properties()) {
                    if (image && IMAGE_FIELDS.contains(field.getKey())) continue;
                    JsonNode value = field.getValue();
                    if (field.getKey().equals("content") && value.isArray()) {
                        for (JsonNode part : value) walk(part, true);
                    } else {
                        walk(value, false);
                    }
                }
            } else {
                for (JsonNode child : node) walk(child, false);
            }
        }
    }

    private static boolean isImage(JsonNode node) {
        if (!node.isObject()) return false;
        String type = node.path("type").asText("");
        return type.equals("image_url") || type.equals("input_image") || type.equals("image");
    }

    /**
     * Usage estimated for a call whose provider reported none: the prompt at its ceiling, since a
     * budget must not come out lower than what the provider bills, and the completion counted.
     */
    static Usage of(ObjectNode request, String completion) {
        return of(request, Tokens.count(completion));
    }

    /** The fields of a reply's message (or a stream's delta) in which a model writes text it is billed for. */
    static final java.util.List<String> REPLY_TEXT = java.util.List.of("content", "reasoning_content", "refusal");

    /** The cl100k tokens a completion's choices wrote: their text ({@link #REPLY_TEXT}) and tool calls' names and arguments. */
    static long completion(ObjectNode body) {
        long n = 0;
        for (JsonNode choice : body.path("choices")) {
            JsonNode message = choice.path("message");
            for (String field : REPLY_TEXT) n += tokens(message.path(field).asText(""));
            for (JsonNode call : message.path("tool_calls")) {
                n += tokens(call.path("function").path("name").asText("")) + tokens(call.path("function").path("arguments").asText(""));
            }
        }
        return n;
    }

    /** As {@link #of(ObjectNode, String)}, with the completion already counted ({@link StreamedText}, {@link #completion}). */
    static Usage of(ObjectNode request, long completionTokens) {
        return new Usage(promptCeiling(request), completionTokens, 0, true);
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
