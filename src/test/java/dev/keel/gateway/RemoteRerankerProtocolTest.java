package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.config.RerankConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.rag.Rerankers;
import dev.keel.trace.Traces;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The remote reranker's wire shapes, against the fake server, without an index. */
class RemoteRerankerProtocolTest {
    private final FakeLlmServer fake;
    private final Traces traces = new Traces();

    RemoteRerankerProtocolTest() throws Exception {
        fake = new FakeLlmServer();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private static SearchHit hit(String id, String body) {
        return new SearchHit(new ChunkRecord("t", id, "v1", 0, id + ".md", "Guide", List.of("Setup"), body, null, "m", 0, null), 1, 1, 1, 1, 1);
    }

    private List<String> rerank(RerankConfig.Api api, List<SearchHit> candidates) {
        return rerank(fake.baseUrl(), api, candidates, traces.start("t", "t"));
    }

    private List<String> rerank(String baseUrl, RerankConfig.Api api, List<SearchHit> candidates, dev.keel.trace.Trace trace) {
        RerankConfig config = new RerankConfig(RerankConfig.Method.REMOTE, 20, 0.7,
                new RerankConfig.Remote(URI.create(baseUrl), api, null, "m", 2_000), RerankConfig.DEFAULTS.onnx(), RerankConfig.DEFAULTS.expansion());
        try (Rerankers rerankers = new Rerankers(config, traces.registry())) {
            return rerankers.rerank(rerankers.defaults(), "q", candidates, 2, trace).hits().stream().map(h -> h.chunk().docId()).toList();
        }
    }

    @Test
    void anUnreachableServerKeepsTheFusedOrder() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        dev.keel.trace.Trace trace = traces.start("t", "t");
        assertThat(rerank("http://127.0.0.1:" + deadPort + "/v1", RerankConfig.Api.COHERE, List.of(hit("a", "first"), hit("b", "second")), trace))
                .containsExactly("a", "b");
        assertThat(trace.view().spans()).singleElement().satisfies(s -> assertThat(s.attributes()).containsEntry("error.type", "unavailable"));
    }

    @Test
    void speaksTeisNativeShapeWhenAskedTo() {
        fake.then(FakeLlmServer.raw("[{\"index\":1,\"score\":0.9},{\"index\":0,\"score\":0.1}]"));
        assertThat(rerank(RerankConfig.Api.TEI, List.of(hit("a", "first"), hit("b", "second")))).containsExactly("b", "a");
        JsonNode sent = fake.received.get(0).body();
        assertThat(sent.get("texts").get(1).asText()).isEqualTo("Guide › Setup\n\nsecond");
        assertThat(sent.has("documents")).isFalse();
        assertThat(fake.received.get(0).headers()).doesNotContainKey("Authorization");
    }

    @Test
    void cohereRepliesInIndexOrderAreSortedByScore() {
        fake.then(FakeLlmServer.raw("{\"results\":[{\"index\":0,\"relevance_score\":0.2},{\"index\":1,\"relevance_score\":0.7}]}"));
        assertThat(rerank(RerankConfig.Api.COHERE, List.of(hit("a", "first"), hit("b", "second")))).containsExactly("b", "a");
    }

    @Test
    void aHugeChunkIsSentCut() {
        fake.then(FakeLlmServer.rerank(text -> text.length()));
        rerank(RerankConfig.Api.COHERE, List.of(hit("a", "x".repeat(100_000)), hit("b", "short")));
        assertThat(fake.received.get(0).body().get("documents").get(0).asText().length()).isEqualTo(8_000);
    }
}
