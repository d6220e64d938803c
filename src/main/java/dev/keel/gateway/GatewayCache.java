package dev.keel.gateway;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.CacheConfig;
import dev.keel.embed.Embedder;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * What may be cached, under which keys, and whether a cached entry may still be served; the
 * storage is a {@link ResponseCache}. A request is cacheable only when its output is a function of
 * its input: chat with {@code temperature} 0 set explicitly, no tools, no log probabilities; answers
 * without a session. {@code "cache": "off"} in the body, or a key created with {@code cache: false},
 * turns caching off for that request. The exact key hashes the tenant, the model, the prompt
 * settings and the canonical request (sorted keys, normalised numbers, without the fields that do
 * not change the output); the semantic scope hashes the same without the last user message, which
 * alone is compared by embedding, and with what embeddings of that message barely see ({@link QuestionSignature}:
 * numbers, negations, words that turn it around, characters the model cannot read), which similar questions must
 * share; a similar entry is served only when the content words both questions hold come in the same order
 * ({@link WordOrder}). Every key and scope starts with the tenant, so one tenant's
 * entries are never served to, compared with, or timed by another's requests. An entry built from
 * documents is served only while each of them still has the version it had. Identical chat misses in
 * flight together reach the provider once: the first leads, the others wait for its stored response.
 * Metrics: requests by surface and result, the USD the hits saved, lookup latency, requests waiting.
 * Thread-safe.
 */
public final class GatewayCache {
    /** The trace attribute holding {@code hit-exact}, {@code hit-semantic}, {@code miss} or {@code off}; the routes send it as {@code x-keel-cache}. */
    public static final String TRACE_ATTR = "cache";
    /**
     * The longest last user message compared by embedding: well inside bge-small's 512-token window,
     * since text beyond the window is ignored and two messages differing only there would look identical.
     */
    static final int SEMANTIC_MAX_CHARS = 1_500;
    /** Request fields that do not change a completion: transport, attribution and upstream caching hints. */
    private static final Set<String> NOT_OUTPUT = Set.of("stream", "stream_options", "user", "metadata", "cache", "store", "prompt_cache_key",
            "prompt_cache_retention", "safety_identifier", "service_tier", "parallel_tool_calls");
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();
    /**
     * How long a chat request waits for an identical one in flight before it asks the provider itself:
     * long enough for a typical completion, short enough that a stuck first request does not hold the rest.
     */
    static final Duration FOLLOW_TIMEOUT = Duration.ofSeconds(30);

    /** How a cached response was found; {@link #header} is the {@code x-keel-cache} value and the ledger tag. */
    public enum Kind {
        EXACT("hit-exact"), SEMANTIC("hit-semantic");

        private final String header;

        Kind(String header) {
            this.header = header;
        }

        public String header() {
            return header;
        }
    }

    /** Looks up a document's current version (content hash) in a tenant; empty when it no longer exists. */
    @FunctionalInterface
    public interface DocumentVersions {
        Optional<String> current(String tenant, String docId);
    }

    /** A request as the cache sees it: not cacheable (and why), or its tenant-scoped key and scope. */
    public sealed interface Probe permits Off, On {
        String surface();
    }

    /** Not cacheable; {@code reason} goes to the trace. */
    public record Off(String surface, String reason) implements Probe {}

    /**
     * Cacheable under {@code key}; {@code scope} and {@code question} are null when there is no semantic
     * lookup. A chat probe whose lookup missed may lead: identical requests then wait for its response.
     */
    public static final class On implements Probe {
        private final String surface, tenant, key, scope, question;
        private final Embedder embedder;
        private final boolean singleFlight;
        private float[] vector;
        private int[] words;
        private CompletableFuture<Void> leading;

        private On(String surface, String tenant, String key, String scope, String question, Embedder embedder, boolean singleFlight) {
            this.surface = surface;
            this.tenant = tenant;
            this.key = key;
            this.scope = scope;
            this.question = question;
            this.embedder = embedder;
            this.singleFlight = singleFlight;
        }

        @Override
        public String surface() {
            return surface;
        }

        /**
         * The question's vector, computed at most once per request: as a passage of its tenant, the way the input guard
         * embeds the text it checks, so a question the guard embedded a moment before is not embedded again.
         */
        private float[] vector() {
            if (vector == null) vector = embedder.forTenant(tenant).embedDocuments(List.of(question)).getFirst();
            return vector;
        }

        /** The question's content words in order ({@link WordOrder}), which a similar entry's must agree with; computed at most once. */
        private int[] words() {
            if (words == null) words = WordOrder.of(question);
            return words;
        }
    }

    /** A servable cached response: a fresh copy of its body, what producing it cost, and the cosine for a semantic hit (1 for exact). */
    public record Hit(Kind kind, ObjectNode body, double savedUsd, double similarity) {}

    private final CacheConfig config;
    private final ResponseCache store;
    private final Embedder embedder;
    private final DocumentVersions versions;
    private final MeterRegistry registry;
    private final ConcurrentHashMap<List<String>, CompletableFuture<Void>> flights = new ConcurrentHashMap<>();
    private final AtomicInteger waiting;

    /** {@code embedder} may be null when the semantic cache is off. */
    public GatewayCache(CacheConfig config, ResponseCache store, Embedder embedder, DocumentVersions versions, MeterRegistry registry) {
        if (config.semantic().enabled() && embedder == null) throw new IllegalArgumentException("the semantic cache needs an embedder");
        this.config = config;
        this.store = store;
        this.embedder = embedder;
        this.versions = versions;
        this.registry = registry;
        this.waiting = registry.gauge("keel.cache.waiting", new AtomicInteger());
    }

    /** A cache that caches nothing (every request is {@code off}). */
    public static GatewayCache disabled(MeterRegistry registry) {
        CacheConfig off = new CacheConfig(new CacheConfig.Exact(false, 1, 1), new CacheConfig.Semantic(false, 1, 1, 1), CacheConfig.DEFAULTS.maxEntryBytes());
        return new GatewayCache(off, new CaffeineResponseCache(off), null, (tenant, doc) -> Optional.empty(), registry);
    }

    private boolean enabled() {
        return config.exact().enabled() || config.semantic().enabled();
    }

    /**
     * A chat-completions request (after the model is resolved): takes Keel's {@code cache} field out
     * of it, so it never goes upstream, and decides whether the request may be cached. Entries are kept
     * apart per {@code guardPolicy} (the name of the guard policy the request was screened under).
     */
    Probe chat(String tenant, ApiKey key, String model, String guardPolicy, ObjectNode request, boolean optedOut) {
        Optional<String> off = switchedOff(request, key).or(() -> optedOut ? Optional.of("request") : Optional.empty())
                .or(() -> nondeterministic(request));
        request.remove("cache");
        if (off.isPresent()) return new Off("chat", off.get());
        JsonNode last = request.path("messages").path(request.path("messages").size() - 1);
        String question = "user".equals(last.path("role").asText()) ? text(last.path("content")) : null;
        String settings = "guard:" + guardPolicy;
        return new On("chat", tenant, hash("exact", tenant, model, settings, request, null),
                semanticScope(question) ? hash("scope", tenant, model, semantic(settings, question), request, last) : null, question, embedder, true);
    }

    /**
     * A {@code /v1/answer} body: cacheable unless it opts out, its key forbids it, or it continues a
     * session (the output depends on earlier turns). {@code settings} identifies what else shapes the
     * answer (the answerer's settings, a prompt template's hash).
     */
    public Probe answer(String tenant, ApiKey key, String settings, ObjectNode body, String question) {
        Optional<String> off = switchedOff(body, key).or(() -> body.hasNonNull("session_id") ? Optional.of("session") : Optional.empty());
        if (off.isPresent()) return new Off("answer", off.get());
        ObjectNode withoutQuestion = body.deepCopy();
        withoutQuestion.remove(List.of("question", "query"));
        return new On("answer", tenant, hash("exact", tenant, "answer", settings, body, null),
                semanticScope(question) ? hash("scope", tenant, "answer", semantic(settings, question), withoutQuestion, null) : null, question, embedder,
                false);
    }

    /**
     * The settings of a semantic scope: {@code settings}, how questions are embedded (as passages; entries stored by a
     * version that embedded them as queries are never compared with these), and what similar questions must share
     * ({@link QuestionSignature}, with what the embedding model does not read of the question).
     */
    private String semantic(String settings, String question) {
        return settings + "|embedded:passage|" + QuestionSignature.of(question, embedder.unseen(question));
    }

    /** Whether {@code question} is compared by embedding: the semantic cache is on, and it is text of bounded length with a letter or digit in it. */
    private boolean semanticScope(String question) {
        return config.semantic().enabled() && question != null && question.length() <= SEMANTIC_MAX_CHARS
                && question.codePoints().anyMatch(Character::isLetterOrDigit);
    }

    /** Why no request like this one is cached here: caches off, the body's {@code "cache": "off"}, the key's policy. */
    private Optional<String> switchedOff(ObjectNode body, ApiKey key) {
        JsonNode c = body.get("cache");
        if (c != null && !c.isNull() && !(c.isTextual() && (c.asText().equals("off") || c.asText().equals("on")))) {
            throw ApiException.badRequest("'cache' must be \"off\" (do not cache this request) or \"on\"", "cache");
        }
        if (!enabled()) return Optional.of("disabled");
        if (c != null && c.asText().equals("off")) return Optional.of("request");
        if (key != null && !key.cache()) return Optional.of("key");
        return Optional.empty();
    }

    /** Why a chat request's output may differ between two identical calls, if it may. */
    private static Optional<String> nondeterministic(ObjectNode r) {
        JsonNode t = r.get("temperature");
        if (t == null || !t.isNumber() || t.doubleValue() != 0) return Optional.of("temperature");
        for (String f : List.of("tools", "functions")) if (r.path(f).isArray() && !r.path(f).isEmpty()) return Optional.of("tools");
        for (String f : List.of("tool_choice", "function_call")) if (r.hasNonNull(f)) return Optional.of("tools");
        if (r.path("logprobs").asBoolean(false) || r.hasNonNull("top_logprobs")) return Optional.of("logprobs");
        if (r.has("n") && r.path("n").asInt(1) != 1) return Optional.of("n");
        return Optional.empty();
    }

    /** The text of a message's content: a string, or text-only parts joined; null when it holds anything else. */
    private static String text(JsonNode content) {
        if (content.isTextual()) return content.asText();
        if (!content.isArray()) return null;
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
            if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) return null;
            sb.append(part.path("text").asText());
        }
        return sb.toString();
    }

    /**
     * The cached response for this request, if one may be served: exact first, then the nearest
     * similar one. An entry whose documents changed is removed and counts as a miss. Records the
     * result in the trace ({@value #TRACE_ATTR}), a {@code cache} span and the metrics.
     */
    public Optional<Hit> lookup(Probe probe, Trace trace) {
        return lookup(probe, trace, h -> true);
    }

    /** {@link #lookup(Probe, Trace)} counting an entry that {@code servable} rejects (this caller may not have it) as a miss. */
    public Optional<Hit> lookup(Probe probe, Trace trace, Predicate<Hit> servable) {
        if (!(probe instanceof On on)) {
            Off off = (Off) probe;
            trace.attr(TRACE_ATTR, "off").attr("cache.reason", off.reason());
            count(off.surface(), "off");
            return Optional.empty();
        }
        Timer.Sample sample = Timer.start(registry);
        Optional<Hit> hit;
        try (Span span = trace.span("cache")) {
            hit = find(on, span, servable);
            sample.stop(registry.timer("keel.cache.lookup", "surface", on.surface));
            if (hit.isEmpty() && on.singleFlight && config.exact().enabled()) hit = follow(on, span).filter(servable);
            span.attr("result", hit.map(h -> h.kind().header()).orElse("miss"));
            hit.ifPresent(h -> span.attr("similarity", Math.round(h.similarity() * 1000) / 1000.0));
        }
        String result = hit.map(h -> h.kind().header()).orElse("miss");
        trace.attr(TRACE_ATTR, result);
        count(on.surface, result);
        hit.ifPresent(h -> registry.counter("keel.cache.saved.usd", "surface", on.surface).increment(h.savedUsd()));
        return hit;
    }

    private Optional<Hit> find(On on, Span span, Predicate<Hit> servable) {
        if (config.exact().enabled()) {
            Optional<ResponseCache.Entry> e = store.exact(on.tenant, on.key);
            Optional<Hit> h = e.filter(entry -> current(on.tenant, on.key, entry, span)).map(entry -> hit(Kind.EXACT, entry, 1)).filter(servable);
            if (h.isPresent()) return h;
        }
        if (on.scope != null) {
            int[] words = on.words();
            Optional<ResponseCache.Similar> s = store.nearest(on.tenant, on.scope, on::vector, config.semantic().threshold(),
                    entry -> WordOrder.agree(words, entry.questionWords()));
            return s.filter(similar -> current(on.tenant, similar.key(), similar.entry(), span))
                    .map(similar -> hit(Kind.SEMANTIC, similar.entry(), similar.similarity())).filter(servable);
        }
        return Optional.empty();
    }

    /**
     * After a miss: leads when no identical request is in flight, else waits (at most
     * {@link #FOLLOW_TIMEOUT}) for that one to finish and looks again.
     */
    private Optional<Hit> follow(On on, Span span) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> theirs = flights.putIfAbsent(List.of(on.tenant, on.key), mine);
        if (theirs == null) {
            // The identical request before this one may have stored its reply between this one's miss and now.
            Optional<Hit> stored = store.exact(on.tenant, on.key).map(e -> hit(Kind.EXACT, e, 1));
            if (stored.isPresent()) {
                flights.remove(List.of(on.tenant, on.key), mine);
                mine.complete(null);
                return stored;
            }
            on.leading = mine;
            return Optional.empty();
        }
        waiting.incrementAndGet();
        try {
            theirs.get(FOLLOW_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            span.attr("waited_out", true);
        } finally {
            waiting.decrementAndGet();
        }
        span.attr("waited", true);
        return store.exact(on.tenant, on.key).map(e -> hit(Kind.EXACT, e, 1));
    }

    /**
     * Ends a request's lead, if it leads: requests waiting for it look again (and, finding nothing,
     * ask the provider themselves). Idempotent; call it when the request ends, however it ends.
     */
    public void release(Probe probe) {
        if (!(probe instanceof On on) || on.leading == null) return;
        flights.remove(List.of(on.tenant, on.key), on.leading);
        on.leading.complete(null);
    }

    /** Whether every document the entry was built from still has that version; a stale entry is removed. */
    private boolean current(String tenant, String key, ResponseCache.Entry entry, Span span) {
        for (ResponseCache.DocumentVersion d : entry.documents()) {
            if (!versions.current(tenant, d.docId()).map(d.version()::equals).orElse(false)) {
                store.remove(tenant, key);
                span.attr("stale", true);
                return false;
            }
        }
        return true;
    }

    private static Hit hit(Kind kind, ResponseCache.Entry entry, double similarity) {
        try {
            return new Hit(kind, (ObjectNode) JSON.readTree(entry.body()), entry.costUsd(), similarity);
        } catch (IOException e) {
            throw new UncheckedIOException("a cached response is not JSON", e);
        }
    }

    /** The largest response body, in bytes, that {@link #store} keeps ({@code cache.max_entry_bytes}). */
    public int maxEntryBytes() {
        return config.maxEntryBytes();
    }

    /**
     * Remembers a response of a cacheable request (nothing for {@link Off}); a body over
     * {@code cache.max_entry_bytes} is not kept. {@code documents}: what the response was built from.
     */
    public void store(Probe probe, byte[] body, double costUsd, List<ResponseCache.DocumentVersion> documents, Trace trace) {
        if (!(probe instanceof On on)) return;
        if (body.length > config.maxEntryBytes()) {
            trace.attr("cache.stored", "too_large");
            return;
        }
        ResponseCache.Entry entry = new ResponseCache.Entry(body.clone(), costUsd, documents, on.scope == null ? WordOrder.NONE : on.words());
        if (config.exact().enabled()) store.putExact(on.tenant, on.key, entry);
        if (on.scope != null) store.putSimilar(on.tenant, on.scope, on.key, on.vector(), entry);
        trace.attr("cache.stored", "yes");
        release(on);
    }

    private void count(String surface, String result) {
        registry.counter("keel.cache.requests", "surface", surface, "result", result).increment();
    }

    /**
     * SHA-256 of the tenant, model, settings and canonical request: object keys sorted, numbers
     * normalised (1 = 1.0), fields that do not change the output left out, and the content of
     * {@code withoutContent} (the compared message, for a semantic scope) left out.
     */
    private static String hash(String kind, String tenant, String model, String settings, JsonNode request, JsonNode withoutContent) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (JsonGenerator g = JSON.getFactory().createGenerator(new DigestOutputStream(OutputStream.nullOutputStream(), digest))) {
            g.writeStartArray();
            g.writeString(kind);
            g.writeString(tenant);
            g.writeString(model);
            g.writeString(settings);
            canonical(g, request, true, withoutContent);
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void canonical(JsonGenerator g, JsonNode n, boolean top, JsonNode withoutContent) throws IOException {
        if (n.isObject()) {
            g.writeStartObject();
            TreeSet<String> fields = new TreeSet<>();
            n.fieldNames().forEachRemaining(fields::add);
            for (String field : fields) {
                if (top && NOT_OUTPUT.contains(field)) continue;
                g.writeFieldName(field);
                if (n == withoutContent && field.equals("content")) g.writeNull();
                else canonical(g, n.get(field), false, withoutContent);
            }
            g.writeEndObject();
        } else if (n.isArray()) {
            g.writeStartArray();
            for (JsonNode item : n) canonical(g, item, false, withoutContent);
            g.writeEndArray();
        } else if (n.isIntegralNumber()) {
            g.writeNumber(n.bigIntegerValue());
        } else if (n.isNumber()) {
            double d = n.doubleValue();
            if (Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 1e15) g.writeNumber((long) d);
            else g.writeNumber(d);
        } else {
            g.writeTree(n);
        }
    }
}
