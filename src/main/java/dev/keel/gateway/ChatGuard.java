package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.config.GuardConfig;
import dev.keel.guard.Guard;
import dev.keel.guard.GuardResult;
import dev.keel.guard.GuardSignal;
import dev.keel.guard.GuardVerdict;
import dev.keel.guard.PiiEntity;
import dev.keel.guard.Redaction;
import dev.keel.guard.StreamGuard;
import dev.keel.model.ApiException;
import dev.keel.model.ChatText;
import dev.keel.model.StreamListener;
import dev.keel.store.ApiKey;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The guard on the chat path. Before the router and the cache, {@link #screen} checks every message
 * text a model would see (injection scoring on what the caller asks and on tool results, which are
 * untrusted; PII on all) and refuses or redacts; {@link #reply} restores the placeholders in what the
 * model wrote and runs the output checks on it. Each pass records a span ({@code guard.input},
 * {@code guard.output}) with its verdict, score, categories, layers and entity counts, never text,
 * and counts {@code keel_guard_decisions_total}. Thread-safe.
 */
final class ChatGuard {
    /** Roles whose text is a request to the model or untrusted data in the conversation, scored for injection. */
    private static final Set<String> SCORED_ROLES = Set.of("user", "tool", "function");
    /** Roles whose text instructs the model; the canary goes into the first of them. */
    private static final Set<String> SYSTEM_ROLES = Set.of("system", "developer");
    /** Metric labels take category names the detectors define in code; anything else is counted as "other". */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z_]{1,40}");
    static final String CONTENT_FILTER = "content_filter";

    private final Guard guard;
    private final MeterRegistry registry;

    /** {@code guard} null: no guard (the gateway built without one). */
    ChatGuard(Guard guard, MeterRegistry registry) {
        this.guard = guard;
        this.registry = registry;
    }

    private boolean on() {
        return guard != null && guard.config().enabled();
    }

    /** The profile of {@code caller}: its key's, else its tenant's, else the default; strict without a key. */
    GuardConfig.Profile profileOf(ChatGateway.Caller caller) {
        ApiKey key = caller.key();
        if (key == null) return GuardConfig.Profile.STRICT;
        if (key.guardProfile() != null) return key.guardProfile();
        return guard.config().profileOf(caller.tenant());
    }

    /**
     * Checks the request's messages for {@code caller} and redacts them in place: refused with a 400
     * carrying the guard's code; else the caller with its {@link GuardPass} (and without the caches
     * when a policy keeps the request on private providers, whose raw PII no cache key may hold). A
     * caller that already has a pass is returned as it is.
     */
    ChatGateway.Caller screen(ObjectNode request, ChatGateway.Caller caller, Trace trace) {
        if (!on() || caller.guard() != null) return caller;
        GuardConfig.Profile profile = profileOf(caller);
        Redaction redaction = new Redaction();
        Decision d = new Decision();
        long start = System.nanoTime();
        JsonNode messages = request.path("messages");
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof ObjectNode message)) continue;
            boolean scored = SCORED_ROLES.contains(message.path("role").asText());
            String param = "messages[" + i + "]";
            UnaryOperator<String> check = text -> {
                GuardResult r = scored ? guard.check(text, Guard.Direction.INPUT, profile, redaction) : guard.checkPii(text, redaction);
                d.add(r);
                if (r.verdict() instanceof GuardVerdict.Block b) {
                    record(trace, "input", d, start);
                    throw new ApiException(400, "invalid_request_error", b.message(), param, b.code());
                }
                return r.verdict() instanceof GuardVerdict.Redact red ? red.text() : text;
            };
            rewriteText(message, check);
            // Earlier tool calls in the conversation carry arguments the model will read again.
            for (JsonNode call : message.path("tool_calls")) {
                if (call.path("function") instanceof ObjectNode f && f.path("arguments").isTextual()) f.put("arguments", check.apply(f.get("arguments").asText()));
            }
        }
        record(trace, "input", d, start);
        ChatGateway.Caller passed = caller.withGuard(new GuardPass(profile, redaction, d.privateOnly));
        return d.privateOnly ? passed.withoutCache() : passed;
    }

    /**
     * The pass of an answer's question (and conversation), checked once at the answer's entry:
     * refused as a chat request is; the question the answer path uses is the pass's redacted text.
     */
    ChatGateway.Screened screenQuestion(String question, ChatGateway.Caller caller, Trace trace) {
        if (!on() || caller.guard() != null) return new ChatGateway.Screened(question, caller);
        ObjectNode request = dev.keel.model.Jackson.mapper().createObjectNode();
        request.putArray("messages").addObject().put("role", "user").put("content", question);
        ChatGateway.Caller passed;
        try {
            passed = screen(request, caller, trace);
        } catch (ApiException e) {
            throw e.withParam("question");
        }
        return new ChatGateway.Screened(request.path("messages").path(0).path("content").asText(), passed);
    }

    /**
     * Puts the canary in the request's system prompt (first system or developer message with text), as
     * a first line that asks the model never to repeat it (the prompt's own last words stay last);
     * nothing when there is no system prompt or the canary check is off.
     */
    void placeCanary(ObjectNode request) {
        if (!on() || !guard.config().output().enabled() || !guard.config().output().canary()) return;
        for (JsonNode m : request.path("messages")) {
            if (m instanceof ObjectNode message && SYSTEM_ROLES.contains(m.path("role").asText()) && m.path("content").isTextual()) {
                message.put("content", guard.canaryLine() + message.get("content").asText());
                return;
            }
        }
    }

    /** The output side of one model call for {@code caller}, over the prompt {@code request} the model was given. */
    ReplyGuard reply(ChatGateway.Caller caller, ObjectNode request) {
        GuardPass pass = caller.guard();
        Redaction redaction = pass == null ? new Redaction() : pass.redaction();
        boolean checks = on() && guard.config().output().enabled();
        if (!checks) return new ReplyGuard(redaction, null, value -> false);
        StringBuilder prompt = new StringBuilder();
        for (JsonNode m : request.path("messages")) prompt.append(ChatText.of(m.get("content"))).append('\n');
        String given = redaction.restore(prompt.toString());
        // The caller's own values and those of the documents the model was given are no leak when the model repeats them.
        return new ReplyGuard(redaction, guard, given::contains);
    }

    /** Restores and checks what a model wrote for one call (see {@link ChatGuard#reply}). */
    final class ReplyGuard {
        private final Redaction redaction;
        private final Guard checks;
        private final Predicate<String> supplied;
        private boolean acted;

        private ReplyGuard(Redaction redaction, Guard checks, Predicate<String> supplied) {
            this.redaction = redaction;
            this.checks = checks;
            this.supplied = supplied;
        }

        /**
         * A completion as the client gets it: a copy with the placeholders restored and each choice's
         * text checked (new entities redacted by policy; a block replaces the text with the guard's
         * message, {@code finish_reason} {@value ChatGuard#CONTENT_FILTER} and the code in {@code reason}).
         */
        ObjectNode finish(ObjectNode body, Trace trace) {
            ObjectNode out = body.deepCopy();
            if (checks == null && redaction.isEmpty()) return out;
            Decision d = new Decision();
            long start = System.nanoTime();
            for (JsonNode c : out.path("choices")) {
                if (!(c instanceof ObjectNode choice) || !(choice.get("message") instanceof ObjectNode message)) continue;
                for (JsonNode call : message.path("tool_calls")) {
                    if (call.path("function") instanceof ObjectNode f && f.path("arguments").isTextual()) {
                        f.put("arguments", redaction.restore(f.get("arguments").asText()));
                    }
                }
                if (!message.path("content").isTextual()) continue;
                String text = redaction.restore(message.get("content").asText());
                if (checks == null) {
                    message.put("content", text);
                    continue;
                }
                GuardResult r = checks.checkOutput(text, new Redaction(), supplied);
                d.add(r);
                acted |= !(r.verdict() instanceof GuardVerdict.Allow);
                switch (r.verdict()) {
                    case GuardVerdict.Block b -> {
                        message.put("content", b.message());
                        choice.put("finish_reason", CONTENT_FILTER).put("reason", b.code());
                    }
                    case GuardVerdict.Redact red -> message.put("content", red.text());
                    case GuardVerdict.Allow a -> message.put("content", text);
                }
            }
            if (checks != null) record(trace, "output", d, start);
            return out;
        }

        /**
         * Whether {@link #finish} redacted or withheld what the model wrote: such a reply holds a value
         * the model should not have written, so it is not cached.
         */
        boolean acted() {
            return acted;
        }

        /** {@code client} behind the stream's output guard (see {@link GuardedStream}). */
        GuardedStream stream(StreamListener client, Trace trace) {
            return new GuardedStream(client, new StreamGuard(checks == null ? guard : checks, redaction, supplied, checks != null), redaction,
                    trace);
        }
    }

    /**
     * Passes a stream's chunks to the client through a {@link StreamGuard}: each chunk's text is what
     * the guard releases (chunks left with nothing to say are dropped), the text still held goes out
     * before the chunk that ends the stream, and a block sends a last chunk with the guard's message,
     * {@code finish_reason} {@value ChatGuard#CONTENT_FILTER} and the code in {@code reason}, then
     * cancels the upstream. Chunks are copied: the caller's own copy (the cache's recording) keeps the
     * model's text.
     */
    final class GuardedStream implements StreamListener {
        private final StreamListener client;
        private final StreamGuard window;
        private final Redaction redaction;
        /** Tool-call index → the placeholders restored in its streamed arguments (a placeholder may span argument deltas). */
        private final Map<Integer, StreamGuard> arguments = new TreeMap<>();
        private final Trace trace;
        private final long start = System.nanoTime();
        private ObjectNode template;
        /** The stream's end was seen (its span recorded); after a block nothing more goes to the client. */
        private boolean ended, blocked;

        private GuardedStream(StreamListener client, StreamGuard window, Redaction redaction, Trace trace) {
            this.client = client;
            this.window = window;
            this.redaction = redaction;
            this.trace = trace;
        }

        @Override
        public boolean onChunk(ObjectNode upstream) {
            if (blocked) return false;
            ObjectNode chunk = upstream.deepCopy();
            if (template == null) template = chunk;
            JsonNode choice = chunk.path("choices").path(0);
            boolean last = choice.hasNonNull("finish_reason");
            String delta = choice.path("delta").path("content").asText("");
            String shown = window.accept(delta);
            if (last) shown += window.finish();
            if (window.blocked() != null) return block();
            if (choice.path("delta") instanceof ObjectNode d) {
                restoreArguments(d, last);
                if (d.path("content").isTextual() || !shown.isEmpty()) d.put("content", shown);
                boolean says = !shown.isEmpty() || last || d.size() > 1 || d.size() == 1 && !d.has("content");
                if (!says && chunk.path("choices").size() == 1 && !chunk.has("usage")) return true;
            }
            if (last) finishSpan();
            return client.onChunk(chunk);
        }

        /** Whether the guard let the whole stream pass as the model wrote it (placeholders aside): only such a stream is cached. */
        boolean clean() {
            return window.verdict().equals("allow");
        }

        /** Restores the placeholders in the delta's tool-call arguments; the last delta gets what each call still held. */
        private void restoreArguments(ObjectNode delta, boolean last) {
            if (redaction.isEmpty()) return;
            for (JsonNode call : delta.path("tool_calls")) {
                if (call.path("function") instanceof ObjectNode f && f.path("arguments").isTextual()) {
                    f.put("arguments", arguments.computeIfAbsent(call.path("index").asInt(0),
                            i -> new StreamGuard(null, redaction, value -> false, false)).accept(f.get("arguments").asText()));
                }
            }
            if (!last) return;
            arguments.forEach((index, held) -> {
                String rest = held.finish();
                if (!rest.isEmpty()) delta.withArray("tool_calls").addObject().put("index", index).putObject("function").put("arguments", rest);
            });
        }

        /** Sends what is still held back when the upstream ended without a finishing chunk. */
        void end() {
            if (ended || template == null) return;
            String rest = window.finish();
            if (window.blocked() != null) {
                block();
                return;
            }
            finishSpan();
            if (rest.isEmpty()) return;
            ObjectNode chunk = head();
            chunk.putArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("content", rest);
            client.onChunk(chunk);
        }

        private boolean block() {
            blocked = true;
            GuardVerdict.Block b = window.blocked();
            ObjectNode chunk = head();
            ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
            choice.putObject("delta").put("content", b.message());
            choice.put("finish_reason", CONTENT_FILTER).put("reason", b.code());
            finishSpan();
            client.onChunk(chunk);
            return false;
        }

        private ObjectNode head() {
            ObjectNode chunk = dev.keel.model.Jackson.mapper().createObjectNode();
            for (String f : List.of("id", "object", "created", "model")) if (template.has(f)) chunk.set(f, template.get(f));
            return chunk;
        }

        private void finishSpan() {
            if (ended) return;
            ended = true;
            if (guard == null || !guard.config().output().enabled() || !guard.config().enabled()) return;
            Decision d = new Decision();
            d.verdict = window.verdict();
            d.categories.addAll(window.categories());
            d.entities.putAll(window.redactedEntities());
            if (window.blocked() != null) d.code = window.blocked().code();
            record(trace, "output", d, start);
        }
    }

    /** The running outcome of one pass over several texts: the worst verdict, the highest score, what fired. */
    private static final class Decision {
        String verdict = "allow", code;
        double score;
        boolean privateOnly;
        final TreeSet<String> categories = new TreeSet<>(), layers = new TreeSet<>();
        final Map<String, Integer> entities = new TreeMap<>();

        void add(GuardResult r) {
            score = Math.max(score, r.score());
            privateOnly |= r.privateOnly();
            categories.addAll(r.categories());
            for (GuardSignal s : r.signals()) layers.add(s.layer());
            for (PiiEntity e : r.entities()) entities.merge(e.type(), 1, Integer::sum);
            switch (r.verdict()) {
                case GuardVerdict.Block b -> {
                    verdict = "block";
                    code = b.code();
                }
                case GuardVerdict.Redact red -> {
                    if (!verdict.equals("block")) verdict = "redact";
                }
                case GuardVerdict.Allow a -> { }
            }
        }
    }

    private void record(Trace trace, String direction, Decision d, long startNanos) {
        long nanos = System.nanoTime() - startNanos;
        try (Span span = trace.span("guard." + direction)) {
            span.attr("verdict", d.verdict).attr("score", Math.round(d.score * 1000) / 1000.0).attr("categories", List.copyOf(d.categories))
                    .attr("layers", List.copyOf(d.layers)).attr("entities", Map.copyOf(d.entities)).attr("private_only", d.privateOnly);
            if (d.code != null) span.attr("code", d.code);
        }
        trace.attr("guard." + direction + ".verdict", d.verdict);
        registry.timer("keel.guard.latency", "direction", direction).record(java.time.Duration.ofNanos(nanos));
        // One count per decision, so a sum by verdict counts requests; the label is its first category.
        String category = d.categories.isEmpty() ? "none" : d.categories.iterator().next();
        registry.counter("keel.guard.decisions", "direction", direction, "verdict", d.verdict, "category",
                LABEL.matcher(category).matches() ? category : "other").increment();
    }

    /** Replaces the message's text (a string, or each text part) by {@code rewrite} of it. */
    private static void rewriteText(ObjectNode message, UnaryOperator<String> rewrite) {
        JsonNode content = message.get("content");
        if (content == null) return;
        if (content.isTextual()) {
            message.set("content", TextNode.valueOf(rewrite.apply(content.asText())));
            return;
        }
        if (content instanceof ArrayNode parts) {
            for (JsonNode p : parts) {
                if (p instanceof ObjectNode part && "text".equals(part.path("type").asText()) && part.path("text").isTextual()) {
                    part.put("text", rewrite.apply(part.get("text").asText()));
                }
            }
        }
    }
}
