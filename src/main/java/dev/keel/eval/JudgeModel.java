package dev.keel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.EscalationCheck;
import dev.keel.model.ApiException;
import dev.keel.model.ChatText;
import dev.keel.model.Jackson;
import dev.keel.model.ProviderException;
import dev.keel.rag.PromptTemplate;
import dev.keel.store.ApiKey;
import dev.keel.store.ContentHash;
import dev.keel.store.Ledger;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A judge's model call: a versioned rubric template and the JSON Schema its verdicts must match, sent through the
 * gateway for the judged tenant (its limits, budgets and ledger apply; the ledger row's route is {@value #LEDGER_ROUTE}
 * and its prompt hash the rubric's; the caches are bypassed), at temperature 0, each call in a trace of its own. Data (question, passages,
 * answers) goes into slots wrapped in tags named with a boundary derived from the data itself, so a text cannot close
 * its own tag. The input guard does not screen these prompts ({@link ChatGateway.Caller#screenedByKeel}): the
 * judged answers and documents reach the judge as they are. A reply that is not JSON or breaks the schema (or {@code check}) is sent back once with the problems;
 * a second invalid reply, or a model that is unavailable or refuses, is a {@link Judge.JudgeException}. Thread-safe.
 */
final class JudgeModel {
    /** The ledger route tag of every judge call: judge spend is visible apart from answers. */
    static final String LEDGER_ROUTE = "eval-judge";
    private static final ObjectMapper JSON = Jackson.mapper();
    /** Reads a verdict: exactly one JSON value, so a reply that appends a second object ({@code {…}{…}}) is invalid, not its first half. */
    private static final ObjectReader VERDICT = JSON.readerFor(JsonNode.class).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** Hex digits of the data hash that name the data tags: unguessable for a text that would close its own tag. */
    private static final int BOUNDARY_CHARS = 12;
    /** Problems quoted back to the model on a retry, and in the error after it. */
    private static final int SHOWN_PROBLEMS = 5;
    /** A reply quoted in the error message is cut to this length. */
    private static final int SHOWN_REPLY_CHARS = 200;

    private final ChatGateway gateway;
    private final Traces traces;
    private final String model;
    private final ApiKey key;
    private final PromptTemplate template;
    private final dev.keel.model.JsonSchemas.Compiled schema;
    private final String rubricHash;
    private final int maxTokens;

    /** Loads {@code prompts/NAME.txt} and {@code prompts/SCHEMA.json}; {@code key} (null: local use) is whose allowance pays. */
    JudgeModel(ChatGateway gateway, Traces traces, String model, ApiKey key, String templateName, List<String> slots, String schemaName, int maxTokens) {
        this.gateway = gateway;
        this.traces = traces;
        this.model = model;
        this.key = key;
        this.template = PromptTemplate.load(templateName, slots, "eval.judge");
        String schemaText = resource("/prompts/" + schemaName + ".json");
        try {
            this.schema = dev.keel.model.JsonSchemas.compile(JSON.readTree(schemaText));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("built-in schema " + schemaName + " is not JSON", e);
        }
        this.rubricHash = ContentHash.sha256(template.hash() + "\n" + schemaText).substring(0, template.hash().length());
        this.maxTokens = maxTokens;
    }

    String model() {
        return model;
    }

    /** The hash of the rubric template and its verdict schema together: part of the judge's id. */
    String rubricHash() {
        return rubricHash;
    }

    /**
     * The model's verdict on {@code data} (slot → text; the boundary slot is added) for {@code tenant}, valid against
     * the schema and with no problem {@code check} finds; see the class comment for the retry.
     */
    JsonNode verdict(String tenant, Map<String, String> data, Function<JsonNode, List<String>> check) {
        Map<String, String> values = new java.util.HashMap<>(data);
        values.put("boundary", boundary(data));
        ObjectNode request = template.chatRequest(model, values, maxTokens);
        // A cached reply to a near-identical prompt is another answer's verdict: judge calls neither read nor write the caches.
        // The answers are judged as they are (one that tries to instruct the judge scores low), not refused by the input guard.
        ChatGateway.Caller caller = new ChatGateway.Caller(tenant, key).withoutCache().screenedByKeel();
        Trace trace = traces.start("eval.judge", tenant);
        trace.attr("judge.model", model).attr("judge.rubric", rubricHash);
        try {
            String reply = call(request, caller, trace);
            List<String> problems = problems(reply, check);
            if (problems.isEmpty()) return VERDICT.readTree(ChatText.unfenced(reply));
            trace.attr("judge.retry", true);
            ArrayNode messages = (ArrayNode) request.get("messages");
            messages.addObject().put("role", "assistant").put("content", reply);
            messages.addObject().put("role", "user").put("content", "That reply is not a valid verdict: "
                    + String.join("; ", problems.subList(0, Math.min(SHOWN_PROBLEMS, problems.size())))
                    + ". Reply again with only the JSON object the instructions describe.");
            reply = call(request, caller, trace);
            problems = problems(reply, check);
            if (problems.isEmpty()) return VERDICT.readTree(ChatText.unfenced(reply));
            trace.fail("invalid_verdict");
            throw new Judge.JudgeException("judge model '" + model + "' returned an invalid verdict twice ("
                    + String.join("; ", problems.subList(0, Math.min(SHOWN_PROBLEMS, problems.size()))) + "); last reply: "
                    + shown(reply), null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a validated verdict did not parse", e);
        } finally {
            trace.finish();
        }
    }

    private String call(ObjectNode request, ChatGateway.Caller caller, Trace trace) {
        try (Span span = trace.span("judge")) {
            span.attr("model", model).attr("prompt_hash", rubricHash);
            return gateway.complete(request.deepCopy(), caller, trace, new Ledger.Tags(null, LEDGER_ROUTE, rubricHash), EscalationCheck.NONE)
                    .completion().body().path("choices").path(0).path("message").path("content").asText("");
        } catch (ProviderException e) {
            trace.fail("judge_unavailable");
            throw new Judge.JudgeException("judge model '" + model + "' is unavailable (" + e.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " from " + e.provider() + "): " + e.getMessage(), e);
        } catch (ApiException e) {
            trace.fail("judge_refused");
            throw new Judge.JudgeException("judge model '" + model + "' refused the request: " + e.getMessage(), e);
        }
    }

    /** What is wrong with a reply: not JSON, the schema's messages, then {@code check}'s. */
    private List<String> problems(String reply, Function<JsonNode, List<String>> check) {
        JsonNode value;
        try {
            value = VERDICT.readTree(ChatText.unfenced(reply));
        } catch (JsonProcessingException e) {
            return List.of("the reply is not valid JSON: exactly one JSON object is expected");
        }
        if (value == null || value.isMissingNode()) return List.of("the reply is empty");
        List<String> out = new ArrayList<>(schema.errors(value));
        if (out.isEmpty()) out.addAll(check.apply(value));
        return out;
    }

    /** The tag boundary: a prefix of the hash of everything put into the slots. */
    private static String boundary(Map<String, String> data) {
        StringBuilder all = new StringBuilder();
        new java.util.TreeMap<>(data).forEach((k, v) -> all.append(k).append('\0').append(v).append('\0'));
        return ContentHash.sha256(all.toString()).substring(0, BOUNDARY_CHARS);
    }

    private static String shown(String reply) {
        String oneLine = reply.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= SHOWN_REPLY_CHARS ? oneLine : oneLine.substring(0, SHOWN_REPLY_CHARS) + "…";
    }

    private static String resource(String path) {
        try (InputStream in = JudgeModel.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing resource " + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
