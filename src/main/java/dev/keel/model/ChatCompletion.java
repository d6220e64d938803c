package dev.keel.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A finished, non-streamed completion in OpenAI's response shape, with who served it and its usage. */
public record ChatCompletion(ObjectNode body, String provider, String upstreamModel, Usage usage) {
    /** The reply's text: the content of its choices' messages, concatenated (empty for a tool call). */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonNode choice : body.path("choices")) sb.append(choice.path("message").path("content").asText(""));
        return sb.toString();
    }
}
