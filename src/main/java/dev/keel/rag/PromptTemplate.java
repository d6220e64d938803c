package dev.keel.rag;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ConfigException;
import dev.keel.store.ContentHash;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A prompt template: a system message, optional few-shot examples (user and assistant turns), the
 * user message, and optionally a last user message of its own, with named slots such as
 * {@code {{context}}} and {@code {{question}}} in them. Sections start with a line {@code ### system},
 * {@code ### example.user}, {@code ### example.assistant}, {@code ### user} or {@code ### question}
 * (the question apart: a provider that reads only the last user message, the extractive one, gets
 * the question alone). The hash (a SHA-256 prefix of the file) names the exact text in traces and
 * the ledger. Slots are filled in one pass, so text put into one slot (a document, a question) is
 * never read as another slot. Immutable; a conversation's history is not a slot: the answerer sends it
 * as a message of its own between the context and the question.
 */
public record PromptTemplate(String name, String hash, String system, List<Turn> examples, String user, String question) {
    /** The slots of the answer template ({@code answer.prompt}). */
    static final List<String> ANSWER_SLOTS = List.of("context", "question");
    /** Hex digits of the SHA-256 kept as the template's hash: enough to tell versions apart, short in a ledger row. */
    private static final int HASH_CHARS = 16;
    private static final Pattern SECTION = Pattern.compile("(?m)^### (system|example\\.user|example\\.assistant|user|question)[ \\t]*$");
    private static final Pattern SLOT = Pattern.compile("\\{\\{([a-z_]+)}}");

    /** A few-shot example: what the user sent and what the assistant replied. */
    public record Turn(String user, String assistant) {}

    /**
     * Loads {@code ref}: the name of a built-in template ({@code prompts/<ref>.txt} in the jar), else a
     * file path; its user section must have the {@code slots}. A missing or malformed template is a
     * configuration error of {@code field}.
     */
    public static PromptTemplate load(String ref, List<String> slots, String field) {
        try (InputStream in = PromptTemplate.class.getResourceAsStream("/prompts/" + ref + ".txt")) {
            if (in != null) return parse(ref, new String(in.readAllBytes(), StandardCharsets.UTF_8), slots, field);
        } catch (IOException e) {
            throw new ConfigException(field, "cannot read the built-in template '" + ref + "': " + e.getMessage());
        }
        Path file = Path.of(ref);
        if (!Files.isRegularFile(file)) throw new ConfigException(field, "no built-in template or file named '" + ref + "'");
        try {
            return parse(file.getFileName().toString(), Files.readString(file), slots, field);
        } catch (IOException e) {
            throw new ConfigException(field, "cannot read " + file + ": " + e.getMessage());
        }
    }

    static PromptTemplate parse(String name, String text, List<String> slots, String field) {
        Matcher m = SECTION.matcher(text);
        List<String> kinds = new ArrayList<>();
        List<int[]> bounds = new ArrayList<>();
        while (m.find()) {
            kinds.add(m.group(1));
            bounds.add(new int[] {m.start(), m.end()});
        }
        String system = null, user = null, question = null, pendingUser = null;
        List<Turn> examples = new ArrayList<>();
        for (int i = 0; i < kinds.size(); i++) {
            int end = i + 1 < kinds.size() ? bounds.get(i + 1)[0] : text.length();
            String body = text.substring(bounds.get(i)[1], end).strip();
            switch (kinds.get(i)) {
                case "system" -> system = body;
                case "user" -> user = body;
                case "question" -> question = body;
                case "example.user" -> pendingUser = body;
                default -> {
                    if (pendingUser == null) throw invalid(field, name, "an example.assistant section must follow an example.user section");
                    examples.add(new Turn(pendingUser, body));
                    pendingUser = null;
                }
            }
        }
        if (system == null || system.isEmpty()) throw invalid(field, name, "a '### system' section is required");
        String messages = user == null ? null : user + (question == null ? "" : question);
        if (messages == null || !slots.stream().allMatch(slot -> messages.contains("{{" + slot + "}}"))) {
            throw invalid(field, name, "a '### user' section (and optionally '### question') with the slots "
                    + slots.stream().map(x -> "{{" + x + "}}").toList() + " is required");
        }
        if (pendingUser != null) throw invalid(field, name, "an example.user section has no example.assistant reply");
        String hash = ContentHash.sha256(text).substring(0, HASH_CHARS);
        return new PromptTemplate(name, hash, system, List.copyOf(examples), user, question);
    }

    private static ConfigException invalid(String field, String name, String problem) {
        return new ConfigException(field, "template '" + name + "': " + problem);
    }

    /** Every text the template sends: system message, few-shot examples, user and question sections, in that order. */
    String text() {
        StringBuilder all = new StringBuilder(system);
        for (Turn t : examples) all.append('\n').append(t.user()).append('\n').append(t.assistant());
        all.append('\n').append(user);
        if (question != null) all.append('\n').append(question);
        return all.toString();
    }

    /** The user message, then the question's own message if the template has one, with {@code values} put into their slots. */
    public List<String> userMessages(Map<String, String> values) {
        return question == null ? List.of(fill(user, values)) : List.of(fill(user, values), fill(question, values));
    }

    /**
     * A deterministic chat request of this template for {@code model}: the system message, the examples, the user
     * messages with {@code values} in their slots, {@code max_tokens} and {@code temperature} 0, as the answerer's
     * checks send them.
     */
    public ObjectNode chatRequest(String model, Map<String, String> values, int maxTokens) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("model", model);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        for (Turn t : examples) {
            messages.addObject().put("role", "user").put("content", t.user());
            messages.addObject().put("role", "assistant").put("content", t.assistant());
        }
        for (String m : userMessages(values)) messages.addObject().put("role", "user").put("content", m);
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        return body;
    }

    /** {@code text} with {@code values} put into their slots in one pass; a slot without a value stays as written. */
    private static String fill(String text, Map<String, String> values) {
        Matcher m = SLOT.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(values.getOrDefault(m.group(1), m.group())));
        m.appendTail(out);
        return out.toString();
    }
}
