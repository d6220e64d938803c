package dev.keel.rag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AnswerConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.EscalationCheck;
import dev.keel.index.SearchHit;
import dev.keel.ingest.Tokens;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.store.Ledger;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers with a language model, grounded in the retrieved context: refuses without calling the
 * model when retrieval confidence is under {@code answer.min_confidence}; otherwise packs the context
 * into the prompt template within the model's window, calls the model through the gateway for the
 * caller (its key's allowance, limits, budgets and the ledger apply, the row tagged with the
 * template's hash), then checks the citations and the grounding of every sentence (and, with
 * {@code answer.verifier_model}, has that model judge each sentence too). A model whose first
 * provider is extractive is answered by the extractive answerer. When every provider of the model
 * is unavailable or timed out, or the chain falls back to an extractive provider, the extractive
 * answer stands in, marked degraded; budget, limit and permission refusals stay errors. Thread-safe.
 */
final class GroundedAnswerer {
    /** What Keel answers, without calling the model, when retrieval found too little. */
    static final String NOT_COVERED = "The indexed documents don't cover this question.";
    /** A reply that says the context does not answer (the template asks for "I don't know: …"). */
    private static final Pattern REFUSAL = Pattern.compile("^\\W*(i don'?t know|i do not know|i cannot answer|i can'?t answer"
            + "|the (provided |given )?(documents|context)( blocks)? (don'?t|do not|does not))", Pattern.CASE_INSENSITIVE);
    /** Share of the free window given to context counted in cl100k: other tokenizers count up to a fifth more. */
    private static final double OTHER_TOKENIZERS_SHARE = 0.8;
    /** OpenAI's framing: 4 tokens per message and 3 to prime the reply, for up to four messages of examples and more. */
    private static final int FRAMING_TOKENS = 32;
    /** The verifier's built-in prompt template. */
    private static final String VERIFIER_TEMPLATE = "grounding-verifier.v1";
    /** A verdict line ("12: UNSUPPORTED") is under 8 cl100k tokens; twice that leaves room for a model's variations. */
    private static final int VERDICT_TOKENS = 16;
    private static final Pattern VERDICT = Pattern.compile("(?m)^\\W*(\\d+)\\s*[:.)\\-]\\s*(UNSUPPORTED|SUPPORTED)\\b", Pattern.CASE_INSENSITIVE);

    /** A routed answer with fewer than half of its sentences supported is worth a larger model's try. */
    static final double ESCALATE_BELOW_GROUNDING = 0.5;
    /** The router's label for an answer escalated by {@link #ESCALATE_BELOW_GROUNDING}. */
    static final String LOW_GROUNDING = "low-grounding";

    /** Introduces the conversation so far: background for the question, never a source of facts. */
    static final String HISTORY_PREAMBLE = "The conversation so far, for reference only (answer from the context blocks, not from it):\n";

    private final ChatGateway gateway;
    private final PromptTemplate template;
    private final AnswerConfig config;
    private final ContextPacker packer;
    private final GroundingChecker checker;
    private final MeterRegistry metrics;
    /** The verifier's template, or null when {@code answer.verifier_model} is off. */
    private final PromptTemplate verifier;

    GroundedAnswerer(ChatGateway gateway, PromptTemplate template, AnswerConfig config, ContextPacker packer, GroundingChecker checker,
                     MeterRegistry metrics) {
        this.gateway = gateway;
        this.template = template;
        this.verifier = config.verifierModel().isEmpty() ? null
                : PromptTemplate.load(VERIFIER_TEMPLATE, List.of("context", "statements"), "answer.verifier_model");
        this.config = config;
        this.packer = packer;
        this.checker = checker;
        this.metrics = metrics;
    }

    String promptHash() {
        return template.hash();
    }

    PromptTemplate template() {
        return template;
    }

    /**
     * The model's answer to {@code request} from {@code context}; {@code offline} is the extractive
     * answer, whose support is the retrieval confidence and which stands in when the model is down.
     */
    Answer answer(AnswerRequest request, String model, Conversation history, List<SearchHit> context, Answer offline, Trace trace, AnswerEvents events,
                  boolean stream) {
        trace.attr("answer.model", model).attr("confidence", round(offline.support()));
        if (gateway.quotesDocuments(model)) {
            // Its first provider would quote the documents itself: Keel's extractive answer says the same, cited, and nothing is down.
            AnswerEngine.emit(offline, events);
            return offline;
        }
        if (offline.support() < config.minConfidence()) return refuse("low_confidence", model, context, offline, trace, events);
        List<ContextPacker.Block> blocks;
        ObjectNode body;
        try (Span span = trace.span("prompt")) {
            int window = gateway.contextWindow(model, request.caller());
            int free = (window > 0 ? window : config.defaultContextWindow()) - config.maxOutputTokens() - ownTokens(request.question(), history);
            int budget = (int) (Math.max(0, free) * OTHER_TOKENIZERS_SHARE);
            blocks = packer.pack(request.tenant(), context, budget);
            body = request(model, blocks, history, request.question(), stream);
            span.attr("template", template.name()).attr("prompt_hash", template.hash()).attr("budget_tokens", budget).attr("blocks", blocks.size());
        }
        trace.attr("prompt.template", template.name()).attr("prompt.hash", template.hash());
        if (blocks.isEmpty()) return refuse(context.isEmpty() ? "no_context" : "context_does_not_fit", model, context, offline, trace, events);

        Ledger.Tags tags = new Ledger.Tags(null, null, template.hash());
        Reply reply = new Reply(context, events, trace);
        try {
            if (stream) {
                gateway.stream(body, request.caller(), trace, tags, reply);
                if (reply.servedOffline == null && reply.firstTokenNanos == 0) events.sources(context);
            } else {
                ChatGateway.Result r = gateway.complete(body, request.caller(), trace, tags, groundingCheck(request, blocks));
                if (gateway.answersOffline(r.provider())) reply.servedOffline = r.provider();
                JsonNode choice = r.completion().body().path("choices").path(0);
                reply.text.append(choice.path("message").path("content").asText(""));
                reply.withhold(choice, choice.path("message").path("content").asText(""));
            }
        } catch (ProviderException e) {
            if (reply.firstTokenNanos != 0 || !(e.kind() == ProviderException.Kind.UNAVAILABLE || e.kind() == ProviderException.Kind.TIMEOUT)) throw e;
            return standIn(e.kind().name().toLowerCase(Locale.ROOT) + " (" + e.provider() + ")", offline, trace, events);
        }
        ChatGateway.markAnswerCall(trace);
        // The chain's last resort quoted the documents itself, numbering its own sources: Keel's extractive answer says the same, cited.
        if (reply.servedOffline != null) return standIn("served by the extractive provider " + reply.servedOffline, offline, trace, events);
        Double ttftMs = reply.firstTokenNanos == 0 ? null : (reply.firstTokenNanos - reply.startNanos) / 1e6;
        if (reply.withheldCode != null) {
            // The output guard withheld the model's reply: the answer is its message, not an answer from the documents.
            return new Answer(reply.withheldMessage, false, List.of(), context, offline.support(), trace.id(), model, null, false, ttftMs, null,
                    reply.withheldCode);
        }
        if (reply.clientGone) {
            trace.attr(Trace.CLIENT_DISCONNECTED, true);
            return new Answer(reply.text.toString(), true, List.of(), context, offline.support(), trace.id(), model, null, false, ttftMs);
        }
        if (reply.text.toString().isBlank()) {
            // No text at all (a reasoning model can spend its whole output limit thinking): the documents' own answer stands in.
            // A stream has sent its sources already, so only the stand-in's text follows them.
            return standIn("empty_reply", offline, trace, stream ? AnswerEngine.textOnly(events) : events);
        }
        return checked(request, model, context, offline, blocks, reply.text.toString(), ttftMs, trace);
    }

    /**
     * The model's reply as it arrives. Streamed: the sources go out with the first token, each piece
     * as a delta; a stream served by an extractive provider is stopped before anything is sent (Keel's
     * own extractive answer stands in), as is one whose client went away. Used by one request's thread.
     */
    private final class Reply implements StreamListener {
        private final List<SearchHit> context;
        private final AnswerEvents events;
        private final Trace trace;
        final StringBuilder text = new StringBuilder();
        final long startNanos = System.nanoTime();
        long firstTokenNanos;
        boolean clientGone;
        String servedOffline;
        String withheldCode, withheldMessage;

        Reply(List<SearchHit> context, AnswerEvents events, Trace trace) {
            this.context = context;
            this.events = events;
            this.trace = trace;
        }

        @Override
        public boolean onChunk(ObjectNode chunk) {
            String piece = chunk.path("choices").path(0).path("delta").path("content").asText("");
            withhold(chunk.path("choices").path(0), piece);
            if (piece.isEmpty()) return true;
            if (firstTokenNanos == 0) {
                if (trace.attribute("provider") instanceof String p && gateway.answersOffline(p)) {
                    servedOffline = p;
                    return false;
                }
                firstTokenNanos = System.nanoTime();
                events.sources(context);
            }
            text.append(piece);
            clientGone = !events.delta(piece);
            return !clientGone;
        }

        /** Notes a choice the output guard ended ({@code finish_reason: content_filter}) and its message. */
        void withhold(JsonNode choice, String message) {
            if (!"content_filter".equals(choice.path("finish_reason").asText())) return;
            withheldCode = choice.path("reason").asText("content_filter");
            withheldMessage = message.strip();
        }
    }

    /**
     * For {@code answer.model: auto}: a reply whose grounding score is under
     * {@value #ESCALATE_BELOW_GROUNDING} makes the router re-ask a larger tier. Refusals are left
     * to the router's own check.
     */
    private EscalationCheck groundingCheck(AnswerRequest request, List<ContextPacker.Block> blocks) {
        return (sent, completion) -> {
            String text = completion.path("choices").path(0).path("message").path("content").asText("");
            if (REFUSAL.matcher(text).find()) return Optional.empty();
            double score = checker.check(request.tenant(), request.question(), text, blocks).grounding().score();
            return score < ESCALATE_BELOW_GROUNDING ? Optional.of(LOW_GROUNDING) : Optional.empty();
        };
    }

    private Answer checked(AnswerRequest request, String model, List<SearchHit> context, Answer offline, List<ContextPacker.Block> blocks,
                           String reply, Double ttftMs, Trace trace) {
        boolean refused = REFUSAL.matcher(reply).find();
        GroundingChecker.Checked c;
        try (Span span = trace.span("grounding")) {
            c = refused ? new GroundingChecker.Checked(reply.strip(), List.of(), new Grounding(1, List.of(), List.of()), List.of(), List.of())
                    : checker.check(request.tenant(), request.question(), reply, blocks);
            span.attr("sentences", c.sentences().size()).attr("unsupported", c.grounding().unsupported().size())
                    .attr("invalid_citations", c.grounding().invalidCitations().size()).attr("score", c.grounding().score());
        }
        if (verifier != null && !c.sentences().isEmpty()) c = verified(request, c, blocks, trace);
        List<Citation> citations = new ArrayList<>();
        for (int n : c.cited()) {
            ContextPacker.Block b = blocks.get(n - 1);
            citations.add(new Citation(n, b.chunk().docId(), b.chunk().source(), b.chunk().title(), b.chunk().section(), b.chunk().ordinal()));
        }
        count(refused ? "refused" : "answered");
        metrics.counter("keel_answer_unsupported_sentences_total").increment(c.grounding().unsupported().size());
        metrics.counter("keel_answer_invalid_citations_total").increment(c.grounding().invalidCitations().size());
        trace.attr("answered", !refused).attr("grounding.score", c.grounding().score());
        return new Answer(c.text(), !refused, citations, context, offline.support(), trace.id(), model, c.grounding(), false, ttftMs);
    }

    /**
     * The check with the sentences the verifier model calls unsupported added. The verifier is
     * billed to the caller like the answer; when it fails or is refused, the offline check stands
     * (the trace says why).
     */
    private GroundingChecker.Checked verified(AnswerRequest request, GroundingChecker.Checked c, List<ContextPacker.Block> blocks, Trace trace) {
        StringBuilder statements = new StringBuilder();
        for (int i = 0; i < c.sentences().size(); i++) statements.append(i + 1).append(". ").append(c.sentences().get(i)).append('\n');
        ObjectNode body = verifier.chatRequest(config.verifierModel(), Map.of("context", render(blocks), "statements", statements.toString()),
                VERDICT_TOKENS * (c.sentences().size() + 1));
        String reply;
        try (Span span = trace.span("verify")) {
            span.attr("model", config.verifierModel()).attr("prompt_hash", verifier.hash()).attr("statements", c.sentences().size());
            reply = gateway.complete(body, request.caller(), trace, new Ledger.Tags(null, null, verifier.hash()), EscalationCheck.NONE).completion().body()
                    .path("choices").path(0).path("message").path("content").asText("");
        } catch (ProviderException | ApiException e) {
            trace.attr("verifier.skipped", e instanceof ProviderException p ? p.kind().name().toLowerCase(Locale.ROOT) : ((ApiException) e).code());
            return c;
        }
        List<String> unsupported = new ArrayList<>(c.grounding().unsupported());
        Matcher m = VERDICT.matcher(reply);
        int flagged = 0;
        while (m.find()) {
            int i = m.group(1).length() > 4 ? 0 : Integer.parseInt(m.group(1));
            if (i < 1 || i > c.sentences().size() || !m.group(2).equalsIgnoreCase("unsupported")) continue;
            flagged++;
            if (!unsupported.contains(c.sentences().get(i - 1))) unsupported.add(c.sentences().get(i - 1));
        }
        trace.attr("verifier.unsupported", flagged);
        List<String> inOrder = c.sentences().stream().filter(unsupported::contains).toList();
        List<GroundingChecker.SentenceCheck> checks = c.checks().stream()
                .map(k -> unsupported.contains(k.sentence()) ? new GroundingChecker.SentenceCheck(k.sentence(), k.cited(), false, k.support()) : k).toList();
        return new GroundingChecker.Checked(c.text(), c.cited(), GroundingChecker.grounding(c.sentences(), inOrder, c.grounding().invalidCitations()),
                c.sentences(), checks);
    }

    /** The extractive answer standing in for the model, marked degraded, with the reason in the trace. */
    private Answer standIn(String reason, Answer offline, Trace trace, AnswerEvents events) {
        trace.attr("degraded", true).attr("degraded.reason", reason);
        count("degraded");
        AnswerEngine.emit(offline, events);
        return offline.standingIn();
    }

    private Answer refuse(String reason, String model, List<SearchHit> context, Answer offline, Trace trace, AnswerEvents events) {
        trace.attr("refused", reason);
        count(reason);
        Answer a = new Answer(NOT_COVERED, false, List.of(), context, offline.support(), trace.id(), model, null, false, null).refusedBecause(reason);
        AnswerEngine.emit(a, events);
        return a;
    }

    private void count(String outcome) {
        metrics.counter("keel_answers_total", "answerer", "model", "outcome", outcome).increment();
    }

    /** The prompt's tokens besides the context blocks: system, examples, the user message around an empty context, framing. */
    private int ownTokens(String question, Conversation history) {
        int n = Tokens.count(template.system()) + FRAMING_TOKENS;
        if (!history.isEmpty()) n += Tokens.count(HISTORY_PREAMBLE + FollowUpRewriter.conversationText(history));
        for (String m : template.userMessages(Map.of("context", "", "question", question))) n += Tokens.count(m);
        for (PromptTemplate.Turn t : template.examples()) n += Tokens.count(t.user()) + Tokens.count(t.assistant());
        return n;
    }

    /** The chat request: system, few-shot examples, then the context blocks, the conversation so far and the question last. */
    private ObjectNode request(String model, List<ContextPacker.Block> blocks, Conversation history, String question, boolean stream) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("model", model);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", template.system());
        for (PromptTemplate.Turn t : template.examples()) {
            messages.addObject().put("role", "user").put("content", t.user());
            messages.addObject().put("role", "assistant").put("content", t.assistant());
        }
        List<String> user = template.userMessages(Map.of("context", render(blocks), "question", question));
        for (int i = 0; i < user.size(); i++) {
            // The conversation goes between the context and the question, which stays last.
            if (i == user.size() - 1 && !history.isEmpty()) {
                messages.addObject().put("role", "user").put("content", HISTORY_PREAMBLE + FollowUpRewriter.conversationText(history));
            }
            messages.addObject().put("role", "user").put("content", user.get(i));
        }
        body.put("max_tokens", config.maxOutputTokens());
        body.put("temperature", 0);
        body.put("stream", stream);
        return body;
    }

    private static String render(List<ContextPacker.Block> blocks) {
        StringBuilder context = new StringBuilder();
        for (ContextPacker.Block b : blocks) context.append(context.isEmpty() ? "" : "\n\n").append(b.render());
        return context.toString();
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
