package dev.keel.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.ChatText;
import dev.keel.model.CallContext;
import dev.keel.model.ChatCompletion;
import dev.keel.model.ProviderException;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The offline provider ({@code type: extractive}): answers the last user message (at most
 * {@link DocumentAnswerer#MAX_QUESTION_CHARS} characters, else 400) from the caller's tenant's
 * documents with sentences quoted from them and numbered sources, or says that the documents
 * don't say. Streamed, the text is the same, sentence by sentence. No language model is involved, so it is the last resort of a model's chain
 * when every remote provider is down, and the answer says so. It cannot call tools or follow a
 * response format (400). Costs nothing; usage is counted in cl100k tokens.
 */
public final class ExtractiveChatModel implements ChatModel {
    static final String NOTE = "(Answered offline by Keel's extractive answerer: quoted from your documents, no language model was used.)";
    /** Whitespace after a sentence end, a closing parenthesis (a source line) or a line break. */
    private static final Pattern SENTENCE_GAP = Pattern.compile("(?<=[.!?)\\n])\\s+");
    private final String name;
    private final DocumentAnswerer answerer;

    public ExtractiveChatModel(String name, DocumentAnswerer answerer) {
        this.name = name;
        this.answerer = answerer;
    }

    @Override
    public String provider() {
        return name;
    }

    @Override
    public String genAiProvider() {
        return "keel.extractive";
    }

    @Override
    public ChatCompletion complete(ObjectNode request, CallContext call) {
        Reply reply = answer(request, call);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("id", reply.id).put("object", "chat.completion").put("created", System.currentTimeMillis() / 1000).put("model", request.path("model").asText());
        ObjectNode choice = body.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", reply.content);
        choice.put("finish_reason", "stop");
        body.set("usage", AnthropicChatModel.openAiUsage(reply.usage));
        return new ChatCompletion(body, name, request.path("model").asText(), reply.usage);
    }

    @Override
    public Usage stream(ObjectNode request, CallContext call, StreamListener listener) {
        Reply reply = answer(request, call);
        String model = request.path("model").asText();
        if (!listener.onChunk(chunk(reply.id, model, JsonNodeFactory.instance.objectNode().put("role", "assistant").put("content", ""), null))) return reply.usage;
        for (String part : sentences(reply.content)) {
            if (!listener.onChunk(chunk(reply.id, model, JsonNodeFactory.instance.objectNode().put("content", part), null))) return reply.usage;
        }
        if (!listener.onChunk(chunk(reply.id, model, JsonNodeFactory.instance.objectNode(), "stop"))) return reply.usage;
        if (request.path("stream_options").path("include_usage").asBoolean(false)) {
            ObjectNode u = chunk(reply.id, model, null, null);
            u.putArray("choices");
            u.set("usage", AnthropicChatModel.openAiUsage(reply.usage));
            listener.onChunk(u);
        }
        return reply.usage;
    }

    private record Reply(String id, String content, Usage usage) {}

    /**
     * Sentence by sentence, as a model would stream it: each piece keeps the whitespace that follows
     * it (paragraph breaks included), so the pieces concatenate to exactly {@code content}.
     */
    private static List<String> sentences(String content) {
        List<String> out = new ArrayList<>();
        Matcher gap = SENTENCE_GAP.matcher(content);
        int start = 0;
        while (gap.find()) {
            out.add(content.substring(start, gap.end()));
            start = gap.end();
        }
        if (start < content.length()) out.add(content.substring(start));
        return out;
    }

    private Reply answer(ObjectNode request, CallContext call) {
        if (request.path("tools").isArray() && !request.path("tools").isEmpty()) {
            throw new ProviderException(Kind.BAD_REQUEST, name, 400, "the extractive provider cannot call tools", null, null);
        }
        String format = request.path("response_format").path("type").asText("text");
        if (!format.equals("text")) {
            throw new ProviderException(Kind.BAD_REQUEST, name, 400, "the extractive provider cannot follow response_format " + format, null, null);
        }
        String question = ChatText.lastUser(request);
        if (question.isBlank()) throw new ProviderException(Kind.BAD_REQUEST, name, 400, "the extractive provider answers the last user message; there is none", null, null);
        if (question.length() > DocumentAnswerer.MAX_QUESTION_CHARS) {
            throw new ProviderException(Kind.BAD_REQUEST, name, 400, String.format(Locale.ROOT,
                    "the extractive provider answers the last user message, which may be at most %,d characters (as a /v1/answer question); this one has %,d",
                    DocumentAnswerer.MAX_QUESTION_CHARS, question.length()), null, null);
        }
        DocumentAnswerer.Grounded g = answerer.answer(call.tenant(), question);
        StringBuilder content = new StringBuilder(g.text().strip());
        if (g.answered() && !g.sources().isEmpty()) {
            content.append("\n\nSources:");
            for (DocumentAnswerer.Source s : g.sources()) {
                content.append("\n[").append(s.n()).append("] ").append(s.title());
                if (s.section() != null && !s.section().isBlank() && !s.section().equals(s.title())) content.append(" › ").append(s.section());
                content.append(" (").append(s.source()).append(')');
            }
        }
        content.append("\n\n").append(NOTE);
        long prompt = 0;
        for (JsonNode m : request.path("messages")) prompt += Tokens.count(ChatText.of(m.get("content")));
        Usage usage = new Usage(prompt, Tokens.count(content.toString()), 0, false);
        return new Reply("chatcmpl-keel-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()), content.toString(), usage);
    }

    private static ObjectNode chunk(String id, String model, ObjectNode delta, String finish) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("id", id).put("object", "chat.completion.chunk").put("created", System.currentTimeMillis() / 1000).put("model", model);
        if (delta != null) {
            ObjectNode choice = c.putArray("choices").addObject();
            choice.put("index", 0);
            choice.set("delta", delta);
            if (finish == null) choice.putNull("finish_reason");
            else choice.put("finish_reason", finish);
        }
        return c;
    }
}
