package dev.keel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.KeelConfig;
import dev.keel.guard.Guard;
import dev.keel.guard.StandInGuard;
import dev.keel.model.StreamListener;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A chat gateway with the guard on (stand-in detectors, see {@link StandInGuard}) in front of two
 * fake providers, one of them marked private, and an exact response cache; {@code guardYaml} is the
 * {@code guard:} section's body. Models: {@code chat} (public provider), {@code mixed} (public, then
 * private) and {@code confidential} (private only).
 */
final class GuardedGateway implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final FakeLlmServer publicUpstream = new FakeLlmServer();
    final FakeLlmServer privateUpstream = new FakeLlmServer();
    final Traces traces = new Traces();
    final Guard guard;
    final ChatGateway gateway;
    private final Database db;
    private final Ledger ledger;

    GuardedGateway(String guardYaml) throws Exception {
        String yaml = """
                providers:
                  public: {type: openai, base_url: %s, max_retries: 0}
                  onprem: {type: openai, base_url: %s, max_retries: 0, private: true}
                models:
                  chat:
                    targets: [{provider: public, model: up-chat}]
                  mixed:
                    targets: [{provider: public, model: up-public}, {provider: onprem, model: up-private}]
                  confidential:
                    targets: [{provider: onprem, model: up-private}]
                cache:
                  semantic: {enabled: false}
                guard:
                %s
                """.formatted(publicUpstream.baseUrl(), privateUpstream.baseUrl(), guardYaml.indent(2).stripTrailing());
        KeelConfig config = KeelConfig.parse(yaml, k -> null);
        guard = StandInGuard.of(config.guard());
        db = Database.open(Files.createTempDirectory("keel-guarded-"));
        ledger = new Ledger(db);
        GatewayCache cache = new GatewayCache(config.cache(), new CaffeineResponseCache(config.cache()), null, (t, d) -> Optional.empty(),
                traces.registry());
        gateway = ChatGateway.create(config.gateway(), config.router(), k -> null, traces.registry(), ledger, null, cache, guard);
    }

    /** A chat request to {@code model} with these role/content pairs, at temperature 0 (cacheable). */
    static ObjectNode request(String model, String... roleContent) {
        ObjectNode r = JSON.createObjectNode().put("model", model).put("temperature", 0);
        for (int i = 0; i < roleContent.length; i += 2) r.withArray("messages").addObject().put("role", roleContent[i]).put("content", roleContent[i + 1]);
        return r;
    }

    Trace trace() {
        return traces.start("test", "acme");
    }

    static ChatGateway.Caller caller() {
        return new ChatGateway.Caller("acme", null);
    }

    /** The reply's text as the client gets it. */
    String complete(ObjectNode request) {
        return gateway.complete(request, caller(), trace()).completion().body().path("choices").path(0).path("message").path("content").asText();
    }

    /** A streamed request's chunks as the client gets them. */
    List<ObjectNode> stream(ObjectNode request) {
        List<ObjectNode> chunks = new ArrayList<>();
        StreamListener client = chunk -> chunks.add(chunk.deepCopy());
        request.put("stream", true);
        gateway.stream(request, caller(), trace(), client);
        return chunks;
    }

    /** The streamed text the client saw. */
    static String text(List<ObjectNode> chunks) {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode c : chunks) sb.append(c.path("choices").path(0).path("delta").path("content").asText(""));
        return sb.toString();
    }

    /** The text of every message the public or private upstream received, joined. */
    static String received(FakeLlmServer upstream) {
        StringBuilder sb = new StringBuilder();
        for (FakeLlmServer.Received r : upstream.received) sb.append(r.body().path("messages")).append('\n');
        return sb.toString();
    }

    @Override
    public void close() {
        gateway.close();
        ledger.close();
        db.close();
        publicUpstream.close();
        privateUpstream.close();
    }
}
