package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ChatCompletion;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import dev.keel.provider.Prices;
import dev.keel.store.Ledger;
import dev.keel.trace.Trace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The chat path's use of {@link GatewayCache}: a hit is served (as a completion or replayed as a
 * faithful chunk stream) and billed at $0 with the ledger's cache tag, never reaching a provider; a
 * completed response is stored, unless a provider that answers from the tenant's documents served
 * it (those change without the chat cache knowing). Thread-safe.
 */
final class ChatCaching {
    /** Completions that end this way are whole answers to the request; others (content filter, tool calls) are not stored, nor are replies without text. */
    private static final Set<String> STORED_FINISHES = Set.of("stop", "length");
    private static final Usage NOTHING = new Usage(0, 0, 0, false);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private final GatewayCache cache;
    private final Billing billing;
    private final Set<String> documentProviders;

    ChatCaching(GatewayCache cache, Billing billing, Set<String> documentProviders) {
        this.cache = cache;
        this.billing = billing;
        this.documentProviders = Set.copyOf(documentProviders);
    }

    /**
     * See {@link GatewayCache#chat}: takes the {@code cache} field out of the request; off for a call
     * made on behalf of a client request that opted out (an answer's model calls).
     */
    GatewayCache.Probe probe(ChatGateway.Caller caller, String model, ObjectNode request) {
        return cache.chat(caller.tenant(), caller.key(), model, caller.guardPolicy(), request, caller.cacheOff());
    }

    /** The cached completion for an admitted request, billed as a hit; empty on a miss. */
    Optional<ChatGateway.Result> complete(GatewayCache.Probe probe, Billing.Ticket ticket, String model, Trace trace) {
        return cache.lookup(probe, trace).map(hit -> {
            ObjectNode body = fresh(hit.body(), model, "chat.completion");
            Prices.Cost cost = billHit(ticket, hit, trace);
            return new ChatGateway.Result(new ChatCompletion(body, null, null, NOTHING), null, usageOf(body), cost);
        });
    }

    /** Replays the cached completion for an admitted stream request as chunks; empty on a miss. */
    Optional<ChatGateway.Streamed> stream(GatewayCache.Probe probe, Billing.Ticket ticket, String model, ObjectNode request, Trace trace,
                                          StreamListener listener) {
        return cache.lookup(probe, trace).map(hit -> {
            ObjectNode body = fresh(hit.body(), model, "chat.completion.chunk");
            JsonNode choice = body.path("choices").path(0);
            ObjectNode first = chunk(body);
            first.withArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("role", "assistant")
                    .put("content", choice.path("message").path("content").asText(""));
            ObjectNode last = chunk(body);
            last.withArray("choices").addObject().put("index", 0).put("finish_reason", choice.path("finish_reason").asText("stop")).putObject("delta");
            boolean open = listener.onChunk(first) && listener.onChunk(last);
            if (open && request.path("stream_options").path("include_usage").asBoolean(false) && body.has("usage")) {
                ObjectNode usage = chunk(body);
                usage.putArray("choices");
                usage.set("usage", body.get("usage"));
                listener.onChunk(usage);
            }
            return new ChatGateway.Streamed(null, usageOf(body), billHit(ticket, hit, trace));
        });
    }

    /** Stores a served completion. */
    void remember(GatewayCache.Probe probe, String provider, ObjectNode body, Prices.Cost cost, Trace trace) {
        if (documentProviders.contains(provider) || !STORED_FINISHES.contains(body.path("choices").path(0).path("finish_reason").asText())) return;
        JsonNode message = body.path("choices").path(0).path("message");
        if (body.path("choices").size() != 1 || message.path("tool_calls").isArray() && !message.path("tool_calls").isEmpty()) return;
        // No text (a reasoning model that spent its output limit thinking) is no answer to serve again.
        if (message.path("content").asText("").isBlank()) return;
        cache.store(probe, bytes(body), cost.usd(), List.of(), trace);
    }

    /** Ends the request's lead of identical requests in flight, if it leads (see {@link GatewayCache#release}). */
    void release(GatewayCache.Probe probe) {
        cache.release(probe);
    }

    /** Watches a stream on its way to the client, so that a completed one can be stored. */
    Recorder recorder(StreamListener client) {
        return new Recorder(client, cache.maxEntryBytes());
    }

    /**
     * A stream's text and end as the client received them; whole only if the client took every chunk and the text
     * stayed short enough to be kept: past {@code maxChars} (the cache's bound on an entry) it stops recording and
     * drops what it held, so a stream that never ends does not grow the heap.
     */
    static final class Recorder implements StreamListener {
        private final StreamListener client;
        private final int maxChars;
        private final StringBuilder text = new StringBuilder();
        private String finish, id;
        private boolean whole = true;

        private Recorder(StreamListener client, int maxChars) {
            this.client = client;
            this.maxChars = maxChars;
        }

        @Override
        public boolean onChunk(ObjectNode chunk) {
            if (whole) record(chunk);
            boolean open = client.onChunk(chunk);
            whole &= open;
            return open;
        }

        private void record(ObjectNode chunk) {
            if (id == null && chunk.hasNonNull("id")) id = chunk.get("id").asText();
            for (JsonNode choice : chunk.path("choices")) {
                if (choice.path("index").asInt(0) != 0 || choice.path("delta").has("tool_calls")) whole = false;
                text.append(choice.path("delta").path("content").asText(""));
                if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
            }
            if (text.length() > maxChars) whole = false;
            if (!whole) {
                text.setLength(0);
                text.trimToSize();
            }
        }
    }

    /** Stores a stream that ended normally, as the completion it amounts to. */
    void remember(GatewayCache.Probe probe, Recorder r, String provider, String model, Usage usage, Prices.Cost cost, Trace trace) {
        if (!r.whole || r.finish == null || r.text.toString().isBlank()) return;
        ObjectNode body = JSON.createObjectNode().put("id", r.id == null ? newId() : r.id).put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", model);
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", r.text.toString());
        choice.put("finish_reason", r.finish);
        body.putObject("usage").put("prompt_tokens", usage.promptTokens()).put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.promptTokens() + usage.completionTokens());
        remember(probe, provider, body, cost, trace);
    }

    /** $0 and the cache tag in the ledger; the admitted reservation is released. */
    Prices.Cost billHit(Billing.Ticket ticket, GatewayCache.Hit hit, Trace trace) {
        ticket.tag(new Ledger.Tags(hit.kind().header(), null, null));
        trace.attr("cache.saved_usd", hit.savedUsd());
        return billing.bill(ticket, null, NOTHING, null, 200, trace);
    }

    /** The cached body as a new response: a new id, the current time, the public model name. */
    private static ObjectNode fresh(ObjectNode body, String model, String object) {
        body.put("id", newId()).put("created", System.currentTimeMillis() / 1000).put("model", model).put("object", object);
        return body;
    }

    /** A new chunk of the stream (or completion) {@code body} belongs to: its id, object, creation time, model and fingerprint. */
    static ObjectNode chunk(ObjectNode body) {
        ObjectNode c = JSON.createObjectNode();
        for (String f : List.of("id", "object", "created", "model", "system_fingerprint")) if (body.has(f)) c.set(f, body.get(f));
        return c;
    }

    private static Usage usageOf(ObjectNode body) {
        JsonNode u = body.path("usage");
        return new Usage(u.path("prompt_tokens").asLong(0), u.path("completion_tokens").asLong(0), 0, !u.isObject());
    }

    private static String newId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return "chatcmpl-" + HexFormat.of().formatHex(b);
    }

    private static byte[] bytes(ObjectNode body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
