package dev.keel.rag;

import static dev.keel.rag.MmrRerankerTest.hit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keel.config.RerankConfig;
import dev.keel.config.RerankConfig.Method;
import dev.keel.index.SearchHit;
import dev.keel.model.ApiException;
import dev.keel.trace.SpanRecord;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.Test;

class RerankersTest {
    private final Traces traces = new Traces();
    private final List<SearchHit> fused = List.of(hit("t", "a", null), hit("t", "b", null), hit("t", "c", null), hit("t", "d", null));

    /** Rerankers whose "remote" is {@code remote} (a real implementation of the SPI, not a network call). */
    private Rerankers with(Reranker remote) {
        return new Rerankers(RerankConfig.DEFAULTS, traces.registry(), Map.of(Method.REMOTE, remote));
    }

    private static List<String> docs(List<SearchHit> hits) {
        return hits.stream().map(h -> h.chunk().docId()).toList();
    }

    private static SpanRecord span(Trace trace) {
        return trace.view().spans().stream().filter(s -> s.name().equals("rerank")).findFirst().orElseThrow();
    }

    private Rerankers.Outcome rerank(Rerankers rerankers, Trace trace, int topK) {
        return rerankers.rerank(rerankers.choose(Method.REMOTE, 0.7, "rerank"), "q", fused, topK, trace);
    }

    private double fallbacks(String reason) {
        var counter = traces.registry().find("keel.rerank.fallbacks").tag("method", "remote").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void noneKeepsTheFusedOrderCutToTopKWithoutASpan() {
        Rerankers rerankers = with((q, c, k) -> List.of());
        Trace trace = traces.start("t", "t");
        Rerankers.Outcome o = rerankers.rerank(rerankers.defaults(), "q", fused, 2, trace);
        assertThat(docs(o.hits())).containsExactly("a", "b");
        assertThat(o.reranked()).isNull();
        assertThat(trace.view().spans()).isEmpty();
    }

    @Test
    void aRerankerReordersTheCandidatesAndTheDebugListCarriesItsScores() {
        Trace trace = traces.start("t", "t");
        Rerankers.Outcome o = rerank(with((q, c, k) -> List.of(new Reranker.Ranked(3, 0.9), new Reranker.Ranked(0, 0.5), new Reranker.Ranked(2, 0.1))),
                trace, 3);
        assertThat(docs(o.hits())).containsExactly("d", "a", "c");
        assertThat(o.reranked().name()).isEqualTo("reranked");
        assertThat(o.reranked().entries()).extracting(e -> e.chunkId() + "=" + e.score()).containsExactly("d#0=0.9", "a#0=0.5", "c#0=0.1");
        assertThat(span(trace).attributes()).containsEntry("outcome", "reranked").containsEntry("method", "remote");
    }

    @Test
    void aRerankerThatReturnsFewerLeavesTheRestInFusedOrder() {
        Rerankers.Outcome o = rerank(with((q, c, k) -> List.of(new Reranker.Ranked(2, 1))), traces.start("t", "t"), 3);
        assertThat(docs(o.hits())).containsExactly("c", "a", "b");
    }

    @Test
    void anIndexOutsideTheCandidatesKeepsTheFusedOrderAndSaysWhy() {
        Trace trace = traces.start("t", "t");
        double before = fallbacks("invalid_indexes");
        Rerankers.Outcome o = rerank(with((q, c, k) -> List.of(new Reranker.Ranked(1, 1), new Reranker.Ranked(4, 0.5))), trace, 3);
        assertThat(docs(o.hits())).containsExactly("a", "b", "c");
        assertThat(o.reranked()).isNull();
        assertThat(span(trace).status()).isEqualTo("error");
        assertThat(span(trace).attributes()).containsEntry("error.type", "invalid_indexes").containsEntry("outcome", "fallback_fused_order");
        assertThat(fallbacks("invalid_indexes")).isEqualTo(before + 1);
    }

    @Test
    void aNegativeOrRepeatedIndexKeepsTheFusedOrder() {
        assertThat(docs(rerank(with((q, c, k) -> List.of(new Reranker.Ranked(-1, 1))), traces.start("t", "t"), 2).hits())).containsExactly("a", "b");
        assertThat(docs(rerank(with((q, c, k) -> List.of(new Reranker.Ranked(2, 1), new Reranker.Ranked(2, 0.5))), traces.start("t", "t"), 2).hits()))
                .containsExactly("a", "b");
    }

    @Test
    void aFailingRerankerKeepsTheFusedOrderWithItsReason() {
        Trace trace = traces.start("t", "t");
        double before = fallbacks("timeout");
        Rerankers.Outcome o = rerank(with((q, c, k) -> {
            throw new Reranker.Failure(Reranker.Reason.TIMEOUT, "no response within the first-byte timeout");
        }), trace, 2);
        assertThat(docs(o.hits())).containsExactly("a", "b");
        assertThat(span(trace).attributes()).containsEntry("error.type", "timeout");
        assertThat(fallbacks("timeout")).isEqualTo(before + 1);
    }

    @Test
    void anUnexpectedExceptionKeepsTheFusedOrderWithoutItsMessage() {
        Trace trace = traces.start("t", "t");
        Rerankers.Outcome o = rerank(with((q, c, k) -> {
            throw new IllegalStateException("secret customer text");
        }), trace, 2);
        assertThat(docs(o.hits())).containsExactly("a", "b");
        assertThat(span(trace).attributes()).containsEntry("error.type", "error");
        assertThat(span(trace).attributes().toString()).doesNotContain("secret customer text");
    }

    @Test
    void fetchesTheConfiguredCandidatesOnlyWhenReordering() {
        Rerankers rerankers = with((q, c, k) -> List.of());
        assertThat(rerankers.pool(rerankers.defaults(), 5)).isEqualTo(5);
        assertThat(rerankers.pool(rerankers.choose(Method.MMR, 0.5, "rerank"), 5)).isEqualTo(RerankConfig.DEFAULTS.candidates());
        assertThat(rerankers.pool(rerankers.choose(Method.MMR, 0.5, "rerank"), 50)).isEqualTo(50);
    }

    @Test
    void aMethodThatIsNotConfiguredIsA400NamingTheSetting() {
        Rerankers rerankers = new Rerankers(RerankConfig.DEFAULTS, traces.registry());
        assertThatThrownBy(() -> rerankers.choose(Method.REMOTE, 0.7, "rerank")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.param()).isEqualTo("rerank");
            assertThat(e.getMessage()).contains("rerank.remote.base_url");
        });
        assertThatThrownBy(() -> rerankers.choose(Method.ONNX, 0.7, "rerank")).hasMessageContaining("rerank.onnx.model_dir");
    }

    @Test
    void fallbacksAreLoggedOncePerReasonAMinuteWithoutTheQueryAndShownForReadiness() {
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T10:00:00Z"));
        Reranker.Reason[] reason = {Reranker.Reason.TIMEOUT};
        Rerankers rerankers = new Rerankers(RerankConfig.DEFAULTS, traces.registry(), Map.of(Method.REMOTE, (q, c, k) -> {
            throw new Reranker.Failure(reason[0], "upstream error 503");
        }), now::get);
        assertThat(rerankers.health()).as("a configured remote reranker is reported though the default is none").isNotEmpty();
        Logger logger = (Logger) LoggerFactory.getLogger(Rerankers.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            Rerankers.Choice remote = rerankers.choose(Method.REMOTE, 0.7, "rerank");
            rerankers.rerank(remote, "what is my colleague's salary", fused, 2, traces.start("t", "t"));
            now.set(now.get().plusSeconds(30));
            rerankers.rerank(remote, "what is my colleague's salary", fused, 2, traces.start("t", "t"));
            reason[0] = Reranker.Reason.UNAVAILABLE;
            rerankers.rerank(remote, "what is my colleague's salary", fused, 2, traces.start("t", "t"));
            reason[0] = Reranker.Reason.TIMEOUT;
            now.set(now.get().plus(Rerankers.WARN_INTERVAL));
            rerankers.rerank(remote, "what is my colleague's salary", fused, 2, traces.start("t", "t"));
        } finally {
            logger.detachAppender(log);
        }
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).hasSize(3).allSatisfy(line -> assertThat(line)
                .contains("remote reranker failed").contains("upstream error 503").doesNotContain("salary"));
        assertThat(log.list.get(1).getFormattedMessage()).contains("unavailable");
        assertThat(log.list).allSatisfy(e -> assertThat(e.getLevel().toString()).isEqualTo("WARN"));
        Map<String, Object> health = rerankers.health();
        assertThat(health).containsEntry("method", "none").containsEntry("fallbacks", 4L);
        assertThat(health.get("last_fallback")).isEqualTo(Map.of("method", "remote", "reason", "timeout", "detail", "upstream error 503",
                "at", "2026-01-01T10:01:30Z"));
    }

    @Test
    void readinessHasNoRerankerDetailsWhenOnlyTheFusedOrderIsPossible() {
        assertThat(new Rerankers(RerankConfig.DEFAULTS, traces.registry()).health()).isEmpty();
    }
}
