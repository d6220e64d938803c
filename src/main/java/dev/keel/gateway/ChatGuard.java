package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.config.GuardConfig;
import dev.keel.config.GuardPolicy;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The guard on the chat path. After admission and before the router and the cache, {@link #screen}
 * checks every message text a model would see (every content part that carries a string
 * {@code text}, whatever its type; injection scoring on what the caller wrote as the user or as the
 * assistant and on tool results, which are untrusted; PII on all) and refuses or redacts, refusing
 * unscanned a request with more than {@code guard.input.max_chars} of text; {@link #reply} restores
 * the placeholders in what the model wrote (never a SECRET into a tool call's arguments) and runs the
 * output checks on every choice's content, reasoning and refusal and on its tool calls' arguments.
 * Every check applies the caller's guard policy ({@link #policyOf}), resolved once per request and
 * carried in its {@link GuardPass}. Each pass records a span ({@code guard.input}, {@code guard.output})
 * over its work with its verdict, score, categories, layers, entity counts and policy name, never text,
 * and counts {@code keel_guard_decisions_total}; an input pass reports how many findings it took from the guard's
 * memory ({@code recalled}, with {@code guard.cache} on) and counts its lookups in {@code keel_guard_cache_lookups_total}.
 * Public for the guard benchmark, which screens conversations as the gateway does. Thread-safe.
 */
public final class ChatGuard {
    /**
     * Roles whose text is a request to the model or untrusted data in the conversation, scored for
     * injection; an assistant turn is the caller's text too (a forged earlier turn is an injection).
     */
    private static final Set<String> SCORED_ROLES = Set.of("user", "assistant", "tool", "function");
    /**
     * Scored texts of one request checked with every layer: those the cheap layers find most suspicious (newest first
     * among equals). The learned layers embed a text (milliseconds each), so a request of thousands of small texts would
     * hold seconds of CPU; the others get the patterns, the decoders and the n-gram classifier, and padding a request
     * with harmless texts does not push a suspicious one out.
     */
    static final int FULLY_SCORED_TEXTS = 16;
    /** Texts (message contents, parts, tool-call arguments) one request may have checked: each costs a pass of the cheap layers. */
    static final int MAX_TEXTS = 1_000;
    /** The fields of a reply message (and of a stream's delta) that carry text the model wrote. */
    private static final List<String> REPLY_TEXT = List.of("content", "reasoning_content", "refusal");
    /** The type whose placeholders a tool call's arguments never get back: a credential must not leave through a call the model chose. */
    private static final String KEPT_FROM_TOOLS = "SECRET";
    /** Roles whose text instructs the model; the canary goes into the first of them. */
    private static final Set<String> SYSTEM_ROLES = Set.of("system", "developer");
    /** Metric labels take category names the detectors define in code; anything else is counted as "other". */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z_]{1,40}");
    static final String CONTENT_FILTER = "content_filter";

    private final Guard guard;
    private final MeterRegistry registry;

    /** {@code guard} null: no guard (the gateway built without one). */
    public ChatGuard(Guard guard, MeterRegistry registry) {
        this.guard = guard;
        this.registry = registry;
    }

    private boolean on() {
        return guard != null && guard.config().enabled();
    }

    /**
     * The guard policy of {@code caller}: its key's {@code guard_policy}, else its tenant's
     * ({@code guard.tenants}), else the global one. A key naming a policy the configuration no longer
     * has gets its tenant's. Allocates nothing.
     */
    GuardPolicy policyOf(ChatGateway.Caller caller) {
        ApiKey key = caller.key();
        if (key != null && key.guardPolicy() != null) {
            GuardPolicy named = guard.config().policies().get(key.guardPolicy());
            if (named != null) return named;
        }
        return guard.config().policyOf(caller.tenant());
    }

    /** The profile of {@code caller} under its {@code policy}: its key's {@code guard_profile}, else the policy's; strict without a key. */
    static GuardConfig.Profile profileOf(ChatGateway.Caller caller, GuardPolicy policy) {
        ApiKey key = caller.key();
        if (key == null) return GuardConfig.Profile.STRICT;
        return key.guardProfile() != null ? key.guardProfile() : policy.profile();
    }

    /** The profile of {@code caller} (see {@link #profileOf(ChatGateway.Caller, GuardPolicy)}). */
    GuardConfig.Profile profileOf(ChatGateway.Caller caller) {
        return profileOf(caller, policyOf(caller));
    }

    /** {@code caller}'s policy as its pass carries it, else resolved now. */
    private GuardPolicy passedPolicy(ChatGateway.Caller caller) {
        GuardPass pass = caller.guard();
        return pass != null && pass.policy() != null ? pass.policy() : policyOf(caller);
    }

    /** The guard under {@code caller}'s policy; null without a guard. */
    Guard guardOf(ChatGateway.Caller caller) {
        return guard == null ? null : guard.under(passedPolicy(caller));
    }

    /**
     * Checks the request's messages for {@code caller} and redacts them in place: refused with a 400
     * carrying the guard's code; else the caller with its {@link GuardPass} (and without the caches
     * when a policy keeps the request on private providers, whose raw PII no cache key may hold). A
     * caller that already has a pass is returned as it is.
     */
    public ChatGateway.Caller screen(ObjectNode request, ChatGateway.Caller caller, Trace trace) {
        if (!on() || caller.guard() != null) return caller;
        Span span = trace.span("guard.input");
        long start = System.nanoTime();
        GuardPolicy policy = policyOf(caller);
        Guard guard = this.guard.under(policy).remembering(caller.tenant());
        Decision d = new Decision(policy.name(), guard);
        JsonNode messages = request.path("messages");
        int[] texts = {0};
        long chars = textChars(messages, texts);
        int max = guard.config().input().maxChars();
        if (texts[0] > MAX_TEXTS) {
            d.verdict = "block";
            d.code = "guard_too_many_texts";
            record(span, trace, "input", d, start);
            throw new ApiException(413, "invalid_request_error", "The messages carry " + texts[0] + " texts (contents, parts, tool-call arguments), more"
                    + " than the " + MAX_TEXTS + " the guard checks per request; join them or send fewer.", "messages", "guard_too_many_texts");
        }
        if (chars > max) {
            d.verdict = "block";
            d.code = "guard_text_too_large";
            record(span, trace, "input", d, start);
            throw new ApiException(413, "invalid_request_error", "The messages carry " + chars + " characters of text, more than the "
                    + max + " the guard checks per request (guard.input.max_chars); send less text.", "messages", "guard_text_too_large");
        }
        GuardConfig.Profile profile = profileOf(caller, policy);
        Redaction redaction = new Redaction();
        List<Guard.Cheap> cheap = cheapUnlessMostSuspicious(scoredTexts(messages), guard);
        int[] ordinal = {0};
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof ObjectNode message)) continue;
            boolean scored = SCORED_ROLES.contains(message.path("role").asText());
            String param = "messages[" + i + "]";
            UnaryOperator<String> pii = checking(text -> guard.checkPii(text, redaction), d, span, trace, start, param);
            boolean asked = message.path("role").asText().equals("user");
            UnaryOperator<String> scoring = checking(text -> {
                Guard.Cheap assessed = cheap.get(ordinal[0]++);
                return asked ? guard.check(text, Guard.Direction.INPUT, profile, redaction, assessed)
                        : guard.checkUntrusted(text, profile, redaction, assessed);
            }, d, span, trace, start, param);
            rewriteText(message, param, scored ? scoring : pii);
            rewriteToolArguments(message, pii);
        }
        record(span, trace, "input", d, start);
        ChatGateway.Caller passed = caller.withGuard(new GuardPass(policy, profile, redaction, d.privateOnly));
        return d.privateOnly ? passed.withoutCache() : passed;
    }

    /** A text's check that adds its result to {@code d}: the text as the model gets it, or the refusal (400 naming {@code param}). */
    private UnaryOperator<String> checking(java.util.function.Function<String, GuardResult> check, Decision d, Span span, Trace trace, long start,
                                           String param) {
        return text -> {
            GuardResult r = check.apply(text);
            d.add(r);
            if (r.verdict() instanceof GuardVerdict.Block b) {
                record(span, trace, "input", d, start);
                throw new ApiException(400, "invalid_request_error", b.message(), param, b.code());
            }
            return r.verdict() instanceof GuardVerdict.Redact red ? red.text() : text;
        };
    }

    /**
     * The characters of message text the guard would scan, counting the texts in {@code texts[0]}: the same texts
     * {@link #rewriteText} and {@link #rewriteToolArguments} read.
     */
    private static long textChars(JsonNode messages, int[] texts) {
        long[] chars = {0};
        UnaryOperator<String> count = text -> {
            chars[0] += text.length();
            texts[0]++;
            return text;
        };
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof ObjectNode message)) continue;
            rewriteText(message, "messages[" + i + "]", count);
            rewriteToolArguments(message, count);
        }
        return chars[0];
    }

    /** The texts of scored roles that {@link #screen} scores for injection, in the order it reads them. */
    private static List<String> scoredTexts(JsonNode messages) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof ObjectNode message) || !SCORED_ROLES.contains(message.path("role").asText())) continue;
            rewriteText(message, "messages[" + i + "]", text -> {
                texts.add(text);
                return text;
            });
        }
        return texts;
    }

    /**
     * Per text, its cheap assessment, or null for the {@link #FULLY_SCORED_TEXTS} texts the cheap layers score highest
     * (the later first among equals), which get every layer; all null when there are no more texts than that.
     */
    private static List<Guard.Cheap> cheapUnlessMostSuspicious(List<String> texts, Guard guard) {
        List<Guard.Cheap> cheap = new ArrayList<>(java.util.Collections.nCopies(texts.size(), (Guard.Cheap) null));
        if (texts.size() <= FULLY_SCORED_TEXTS) return cheap;
        for (int i = 0; i < texts.size(); i++) cheap.set(i, guard.cheap(texts.get(i)));
        IntStream.range(0, texts.size()).boxed().sorted(Comparator.<Integer>comparingDouble(i -> -cheap.get(i).score()).thenComparing(i -> -i))
                .limit(FULLY_SCORED_TEXTS).toList().forEach(i -> cheap.set(i, null));
        return cheap;
    }

    /** Earlier tool calls in the conversation carry arguments the model will read again. */
    private static void rewriteToolArguments(ObjectNode message, UnaryOperator<String> rewrite) {
        for (JsonNode call : message.path("tool_calls")) {
            if (call.path("function") instanceof ObjectNode f && f.path("arguments").isTextual()) f.put("arguments", rewrite.apply(f.get("arguments").asText()));
        }
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
     * a first line that asks the model never to repeat it (the prompt's own last words stay last; in
     * a prompt of parts, a first text part); nothing when there is no system prompt or the canary check is off
     * under {@code caller}'s policy.
     */
    void placeCanary(ObjectNode request, ChatGateway.Caller caller) {
        if (!on() || !guard.config().output().enabled() || !guardOf(caller).config().output().canary()) return;
        for (JsonNode m : request.path("messages")) {
            if (!(m instanceof ObjectNode message) || !SYSTEM_ROLES.contains(m.path("role").asText())) continue;
            if (m.path("content").isTextual()) {
                message.put("content", guard.canaryLine() + message.get("content").asText());
                return;
            }
            if (m.path("content") instanceof ArrayNode parts && !parts.isEmpty()) {
                parts.insertObject(0).put("type", "text").put("text", guard.canaryLine());
                return;
            }
        }
    }

    /** The output side of one model call for {@code caller}, over the prompt {@code request} the model was given. */
    ReplyGuard reply(ChatGateway.Caller caller, ObjectNode request) {
        GuardPass pass = caller.guard();
        Redaction redaction = pass == null ? new Redaction() : pass.redaction();
        boolean checks = on() && guard.config().output().enabled();
        if (!checks) return new ReplyGuard(redaction, null, value -> false, null);
        GuardPolicy policy = passedPolicy(caller);
        StringBuilder prompt = new StringBuilder();
        for (JsonNode m : request.path("messages")) prompt.append(ChatText.of(m.get("content"))).append('\n');
        String given = redaction.restore(prompt.toString());
        // The caller's own values and those of the documents the model was given are no leak when the model repeats them.
        return new ReplyGuard(redaction, guard.under(policy), given::contains, policy.name());
    }

    /** Restores and checks what a model wrote for one call (see {@link ChatGuard#reply}). */
    final class ReplyGuard {
        private final Redaction redaction;
        private final Guard checks;
        private final Predicate<String> supplied;
        private final String policy;
        private boolean acted;

        private ReplyGuard(Redaction redaction, Guard checks, Predicate<String> supplied, String policy) {
            this.redaction = redaction;
            this.checks = checks;
            this.supplied = supplied;
            this.policy = policy;
        }

        /**
         * A completion as the client gets it: a copy with the placeholders restored (no SECRET in tool
         * calls' arguments) and each choice's content, reasoning, refusal and tool-call arguments
         * checked (new entities redacted by policy; a block replaces the choice's message with the
         * guard's message, {@code finish_reason} {@value ChatGuard#CONTENT_FILTER} and the code in {@code reason}).
         * {@code body} itself when there is nothing to restore or check (copying it was ~1% of a proxied request's CPU).
         */
        ObjectNode finish(ObjectNode body, Trace trace) {
            if (checks == null && redaction.isEmpty()) return body;
            ObjectNode out = body.deepCopy();
            Span span = checks == null ? null : trace.span("guard.output");
            long start = System.nanoTime();
            Decision d = new Decision(policy);
            Redaction found = new Redaction();
            Redaction forTools = redaction.without(KEPT_FROM_TOOLS);
            for (JsonNode c : out.path("choices")) {
                if (!(c instanceof ObjectNode choice) || !(choice.get("message") instanceof ObjectNode message)) continue;
                GuardVerdict.Block block = null;
                for (String field : REPLY_TEXT) {
                    if (message.path(field).isTextual()) {
                        GuardVerdict.Block b = checked(message, field, redaction, found, d);
                        if (block == null) block = b;
                    }
                }
                for (JsonNode call : message.path("tool_calls")) {
                    if (call.path("function") instanceof ObjectNode f && f.path("arguments").isTextual()) {
                        GuardVerdict.Block b = checked(f, "arguments", forTools, found, d);
                        if (block == null) block = b;
                    }
                }
                if (block != null) {
                    String role = message.path("role").asText("assistant");
                    message.removeAll();
                    message.put("role", role).put("content", block.message());
                    choice.put("finish_reason", CONTENT_FILTER).put("reason", block.code());
                }
            }
            if (span != null) record(span, trace, "output", d, start);
            return out;
        }

        /** Restores {@code node.field} with {@code placeholders} and checks it in place; the block when the text must be withheld. */
        private GuardVerdict.Block checked(ObjectNode node, String field, Redaction placeholders, Redaction found, Decision d) {
            String text = placeholders.restore(node.get(field).asText());
            if (checks == null) {
                node.put(field, text);
                return null;
            }
            GuardResult r = checks.checkOutput(text, found, supplied);
            d.add(r);
            acted |= !(r.verdict() instanceof GuardVerdict.Allow);
            return switch (r.verdict()) {
                case GuardVerdict.Block b -> b;
                case GuardVerdict.Redact red -> {
                    node.put(field, red.text());
                    yield null;
                }
                case GuardVerdict.Allow a -> {
                    node.put(field, text);
                    yield null;
                }
            };
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
            return new GuardedStream(client, checks, redaction, supplied, trace, policy);
        }
    }

    /**
     * Passes a stream's chunks to the client through one {@link StreamGuard} per choice and text field
     * ({@code content}, {@code reasoning_content}, {@code refusal}) and per tool call's arguments (which
     * never get a SECRET back): each delta's text is what its guard releases (chunks left with nothing
     * to say are dropped), a choice's held text goes out with the chunk that finishes it (or at the
     * stream's end), and a block anywhere sends a last chunk with the guard's message,
     * {@code finish_reason} {@value ChatGuard#CONTENT_FILTER} and the code in {@code reason}, then
     * cancels the upstream. Chunks are copied: the caller's own copy (the cache's recording) keeps the
     * model's text. Its span records the guard's own time ({@code work_ms}), not the stream's.
     */
    final class GuardedStream implements StreamListener {
        private final StreamListener client;
        /** The output checks; null: placeholders restored only. */
        private final Guard checks;
        private final Redaction redaction, forTools;
        private final Predicate<String> supplied;
        /** "choice/field" or "choice/tool/index" → the guard of a text still open; closed when its choice finishes. */
        private final Map<String, StreamGuard> open = new java.util.LinkedHashMap<>();
        private final List<StreamGuard> all = new java.util.ArrayList<>();
        private final Trace trace;
        private final String policy;
        private long workNanos;
        private ObjectNode template;
        /** The stream's end was seen (its span recorded); after a block nothing more goes to the client. */
        private boolean ended, blocked;
        /** Usage-only chunks that came while choices were unfinished: they go after the text still held, as the upstream sent them. */
        private final List<ObjectNode> usageAfterText = new java.util.ArrayList<>();

        private GuardedStream(StreamListener client, Guard checks, Redaction redaction, Predicate<String> supplied, Trace trace, String policy) {
            this.policy = policy;
            this.client = client;
            this.checks = checks;
            this.redaction = redaction;
            this.forTools = redaction.without(KEPT_FROM_TOOLS);
            this.supplied = supplied;
            this.trace = trace;
        }

        @Override
        public boolean onChunk(ObjectNode upstream) {
            if (blocked) return false;
            if (checks == null && redaction.isEmpty()) return passOn(upstream);
            long begin = System.nanoTime();
            ObjectNode chunk = upstream.deepCopy();
            if (template == null) template = chunk;
            if (chunk.path("choices").isEmpty() && !open.isEmpty()) {
                usageAfterText.add(chunk);
                workNanos += System.nanoTime() - begin;
                return true;
            }
            boolean says = chunk.has("usage") || chunk.path("choices").isEmpty();
            for (JsonNode c : chunk.path("choices")) {
                if (!(c instanceof ObjectNode choice) || !(choice.get("delta") instanceof ObjectNode delta)) {
                    says = true;
                    continue;
                }
                int index = choice.path("index").asInt(0);
                boolean last = choice.hasNonNull("finish_reason");
                boolean choiceSays = last;
                for (String field : REPLY_TEXT) {
                    String key = index + "/" + field;
                    if (!delta.path(field).isTextual() && !open.containsKey(key)) continue;
                    StreamGuard window = window(key, redaction);
                    String shown = window.accept(delta.path(field).asText(""));
                    if (last) shown += close(key);
                    if (window.blocked() != null) return block(window.blocked(), begin);
                    if (delta.path(field).isTextual() || !shown.isEmpty()) delta.put(field, shown);
                    choiceSays |= !shown.isEmpty();
                }
                for (JsonNode call : delta.path("tool_calls")) {
                    if (!(call.path("function") instanceof ObjectNode f) || !f.path("arguments").isTextual()) continue;
                    StreamGuard window = window(index + "/tool/" + call.path("index").asInt(0), forTools);
                    f.put("arguments", window.accept(f.get("arguments").asText()));
                    if (window.blocked() != null) return block(window.blocked(), begin);
                }
                if (last) {
                    for (String key : List.copyOf(open.keySet())) {
                        if (!key.startsWith(index + "/tool/")) continue;
                        String rest = close(key);
                        if (all.stream().anyMatch(w -> w.blocked() != null)) return block(firstBlock(), begin);
                        if (!rest.isEmpty()) {
                            delta.withArray("tool_calls").addObject().put("index", Integer.parseInt(key.substring(key.lastIndexOf('/') + 1)))
                                    .putObject("function").put("arguments", rest);
                        }
                    }
                }
                for (var names = delta.fieldNames(); names.hasNext(); ) choiceSays |= !REPLY_TEXT.contains(names.next());
                says |= choiceSays;
            }
            workNanos += System.nanoTime() - begin;
            if (!says) return true;
            return client.onChunk(chunk);
        }

        /**
         * A chunk of a stream with nothing to check and no placeholder to restore, as the upstream sent it: no copy and no
         * window, and no chunk dropped for an empty delta.
         */
        private boolean passOn(ObjectNode upstream) {
            if (template == null) template = upstream;
            return client.onChunk(upstream);
        }

        private StreamGuard window(String key, Redaction placeholders) {
            return open.computeIfAbsent(key, k -> {
                StreamGuard w = new StreamGuard(checks, placeholders, supplied, checks != null);
                all.add(w);
                return w;
            });
        }

        private String close(String key) {
            StreamGuard w = open.remove(key);
            return w == null ? "" : w.finish();
        }

        private GuardVerdict.Block firstBlock() {
            return all.stream().map(StreamGuard::blocked).filter(java.util.Objects::nonNull).findFirst().orElseThrow();
        }

        /** Whether the guard let the whole stream pass as the model wrote it (placeholders aside): only such a stream is cached. */
        boolean clean() {
            return all.stream().allMatch(w -> w.verdict().equals("allow"));
        }

        /** Sends what is still held back when the upstream ended without finishing its choices, and records the span. */
        void end() {
            if (ended || template == null) return;
            long begin = System.nanoTime();
            List<ObjectNode> rest = new java.util.ArrayList<>();
            for (String key : List.copyOf(open.keySet())) {
                String text = close(key);
                if (all.stream().anyMatch(w -> w.blocked() != null)) {
                    block(firstBlock(), begin);
                    return;
                }
                if (text.isEmpty()) continue;
                String[] at = key.split("/");
                ObjectNode chunk = head();
                ObjectNode delta = chunk.putArray("choices").addObject().put("index", Integer.parseInt(at[0])).putNull("finish_reason").putObject("delta");
                if (at.length == 2) delta.put(at[1], text);
                else delta.putArray("tool_calls").addObject().put("index", Integer.parseInt(at[2])).putObject("function").put("arguments", text);
                rest.add(chunk);
            }
            workNanos += System.nanoTime() - begin;
            finishSpan();
            rest.forEach(client::onChunk);
            usageAfterText.forEach(client::onChunk);
        }

        private boolean block(GuardVerdict.Block b, long begin) {
            blocked = true;
            workNanos += System.nanoTime() - begin;
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
            if (checks == null) return;
            Decision d = new Decision(policy);
            for (StreamGuard w : all) {
                if (w.verdict().equals("block") || w.verdict().equals("redact") && d.verdict.equals("allow")) d.verdict = w.verdict();
                d.categories.addAll(w.categories());
                w.redactedEntities().forEach((type, n) -> d.entities.merge(type, n, Integer::sum));
                if (w.blocked() != null) d.code = w.blocked().code();
            }
            Span span = trace.span("guard.output");
            span.attr("work_ms", workNanos / 1e6);
            record(span, trace, "output", d, System.nanoTime() - workNanos);
        }
    }

    /** The running outcome of one pass over several texts: the worst verdict, the highest score, what fired. */
    private static final class Decision {
        /** The name of the policy the pass ran under: config-bounded, so a metric label. */
        final String policy;
        /** The guard view of an input pass, whose lookups in the guard's memory of findings the span reports; null: none. */
        final Guard remembering;
        String verdict = "allow", code;
        double score;
        boolean privateOnly;
        final TreeSet<String> categories = new TreeSet<>(), layers = new TreeSet<>();
        final Map<String, Integer> entities = new TreeMap<>();

        Decision(String policy) {
            this(policy, null);
        }

        Decision(String policy, Guard remembering) {
            this.policy = policy;
            this.remembering = remembering;
        }

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

    /** Closes {@code span} (opened when the work began) with the decision; the latency timer gets the time since {@code startNanos}. */
    private void record(Span opened, Trace trace, String direction, Decision d, long startNanos) {
        long nanos = System.nanoTime() - startNanos;
        try (Span span = opened) {
            span.attr("verdict", d.verdict).attr("score", Math.round(d.score * 1000) / 1000.0).attr("categories", List.copyOf(d.categories))
                    .attr("layers", List.copyOf(d.layers)).attr("entities", Map.copyOf(d.entities)).attr("private_only", d.privateOnly);
            span.attr("policy", d.policy);
            if (d.code != null) span.attr("code", d.code);
            if (d.remembering != null && d.remembering.config().cache().enabled()) span.attr("recalled", d.remembering.recalled());
        }
        if (d.remembering != null && d.remembering.config().cache().enabled()) {
            registry.counter("keel.guard.cache.lookups", "result", "hit").increment(d.remembering.recalled());
            registry.counter("keel.guard.cache.lookups", "result", "miss").increment(d.remembering.computed());
        }
        trace.attr("guard." + direction + ".verdict", d.verdict);
        registry.timer("keel.guard.latency", "direction", direction).record(java.time.Duration.ofNanos(nanos));
        // One count per decision, so a sum by verdict counts requests; the label is its first category.
        String category = d.categories.isEmpty() ? "none" : d.categories.iterator().next();
        registry.counter("keel.guard.decisions", "direction", direction, "verdict", d.verdict, "category",
                LABEL.matcher(category).matches() ? category : "other", "policy", d.policy).increment();
    }

    /** Replaces the message's text (a string, or each part's string {@code text}, whatever the part's type) by {@code rewrite} of it. */
    /** The fields of a content part a provider may read as text. */
    private static final List<String> TEXT_FIELDS = List.of("text", "refusal");

    private static void rewriteText(ObjectNode message, String param, UnaryOperator<String> rewrite) {
        // An assistant turn's refusal is text the model reads again, like its content.
        if (message.path("refusal").isTextual()) message.put("refusal", rewrite.apply(message.get("refusal").asText()));
        JsonNode content = message.get("content");
        if (content == null) return;
        if (content.isTextual()) {
            message.set("content", TextNode.valueOf(rewrite.apply(content.asText())));
            return;
        }
        if (content instanceof ArrayNode parts) {
            for (int i = 0; i < parts.size(); i++) {
                if (!(parts.get(i) instanceof ObjectNode part)) continue;
                // Any part type: what a provider reads as text (input_text, a translation that joins every part's text) is checked.
                for (String field : TEXT_FIELDS) {
                    JsonNode value = part.get(field);
                    if (value == null || value.isNull()) continue;
                    if (!value.isTextual()) {
                        throw ApiException.badRequest("content part '" + field + "' must be a string", param + ".content[" + i + "]." + field);
                    }
                    part.put(field, rewrite.apply(value.asText()));
                }
            }
        }
    }
}
