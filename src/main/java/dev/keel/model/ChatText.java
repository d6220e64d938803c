package dev.keel.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The text of a chat request or reply, read in one place: a message's content is a string or a list
 * of parts whose {@code text} parts count (images and other parts do not). Stateless.
 */
public final class ChatText {
    private ChatText() {}

    /** The last user message's text, or "" when there is none. */
    public static String lastUser(ObjectNode request) {
        JsonNode messages = request.path("messages");
        for (int i = messages.size() - 1; i >= 0; i--) {
            if ("user".equals(messages.get(i).path("role").asText())) return of(messages.get(i).get("content"));
        }
        return "";
    }

    /** A message's text: the string, or its text parts joined by newlines. */
    public static String of(JsonNode content) {
        if (content == null || content.isNull()) return "";
        if (content.isTextual()) return content.asText();
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) if ("text".equals(part.path("type").asText())) sb.append(part.path("text").asText()).append('\n');
        return sb.toString().strip();
    }

    /** The text of a chat completion's choices, concatenated. */
    public static String reply(ObjectNode completion) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode choice : completion.path("choices")) sb.append(choice.path("message").path("content").asText(""));
        return sb.toString();
    }

    /** A reply's text without a Markdown code fence around it ("```json … ```"), as models often wrap JSON. */
    public static String unfenced(String reply) {
        String t = reply.strip();
        if (t.startsWith("```")) {
            int first = t.indexOf('\n');
            int last = t.lastIndexOf("```");
            if (first > 0 && last > first) return t.substring(first + 1, last).strip();
        }
        return t;
    }
}
