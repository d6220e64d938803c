package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.SourceDocument;
import dev.keel.trace.SpanRecord;
import dev.keel.trace.Trace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Through the real pipeline (ingest, the embedding model, hybrid search, the extractive answerer): what
 * one tenant's questions get — search scores in every mode, the answer and its support — stays
 * bit-identical while another tenant ingests, updates and deletes documents full of the same words,
 * and after a restart. And no cache tells one tenant what another asked.
 */
class PerTenantAnswersTest {
    private static final List<String> QUESTIONS = List.of("How long do refunds take?", "How are webhook deliveries retried?",
            "How do I rotate an API secret?");
    private static final String B_HANDBOOK = """
            # Billing handbook

            ## Refunds

            Refunds for annual plans are paid back within 10 business days. Monthly plans are not refunded.

            ## Webhooks

            Webhook deliveries are retried five times with exponential backoff, then marked as failed.

            ## Secrets

            Rotate an API secret from the settings page; the previous secret keeps working for 24 hours.
            """;

    private static KeelConfig config() {
        return KeelConfig.parse("server:\n  port: 0\n", k -> null);
    }

    private static SourceDocument markdown(String id, String text) {
        return new SourceDocument(id, "api:" + id, id + ".md", DocumentFormat.MARKDOWN, text.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null);
    }

    /** Search hits (chunk, score, per-retriever scores) in each mode, and the answer with its support, for every question. */
    private static Map<String, Object> whatBSees(Keel keel) {
        Map<String, Object> seen = new LinkedHashMap<>();
        for (String q : QUESTIONS) {
            for (SearchMode mode : SearchMode.values()) {
                List<String> hits = new ArrayList<>();
                for (SearchHit h : keel.answers().search("b", q, mode, 5, keel.answers().searchSettings(), SearchFilters.NONE, false,
                        keel.traces().start("search", "b")).hits()) {
                    hits.add(h.chunk().chunkId() + " " + h.score() + " " + h.bm25Score() + " " + h.vectorScore());
                }
                seen.put(mode + " " + q, hits);
            }
            Answer a = keel.answers().answer(new AnswerRequest("b", q, SearchFilters.NONE), keel.traces().start("answer", "b"));
            seen.put("answer " + q, a.text() + " | support " + a.support());
        }
        return seen;
    }

    @Test
    void oneTenantsScoresAndAnswersDoNotMoveWhileAnotherTenantWritesTheSameWords(@TempDir Path dir) {
        Map<String, Object> before;
        try (Keel keel = Keel.open(config(), dir)) {
            keel.ingestor().ingestDocuments("b", List.of(markdown("handbook", B_HANDBOOK)), keel.traces().start("ingest", "b"), IngestListener.NONE);
            before = whatBSees(keel);
            for (int round = 0; round < 12; round++) {
                keel.ingestor().ingestDocuments("a", List.of(markdown("a" + round, "# Refunds\n\nRefunds, refunds: webhook secret rotate retried "
                        + "deliveries annual plans, round " + round + ".")), keel.traces().start("ingest", "a"), IngestListener.NONE);
            }
            keel.ingestor().ingestDocuments("a", List.of(markdown("a0", "# Webhooks\n\nWebhook deliveries retried.")),
                    keel.traces().start("ingest", "a"), IngestListener.NONE);
            keel.ingestor().delete("a", "a1");
            assertThat(whatBSees(keel)).isEqualTo(before);
        }
        try (Keel restarted = Keel.open(config(), dir)) {
            assertThat(whatBSees(restarted)).as("after a restart").isEqualTo(before);
        }
    }

    @Test
    void aQueryVectorCachedForOneTenantIsAMissForAnother(@TempDir Path dir) {
        try (Keel keel = Keel.open(config(), dir)) {
            keel.answers().search("a", "secret rotation", SearchMode.VECTOR, 5, keel.answers().searchSettings(), SearchFilters.NONE, false,
                    keel.traces().start("search", "a"));
            assertThat(queryVectorCache(keel, "a")).isEqualTo("hit");
            assertThat(queryVectorCache(keel, "b")).as("b never asked this").isEqualTo("miss");
        }
    }

    private static Object queryVectorCache(Keel keel, String tenant) {
        Trace trace = keel.traces().start("search", tenant);
        keel.answers().search(tenant, "secret rotation", SearchMode.VECTOR, 5, keel.answers().searchSettings(), SearchFilters.NONE, false, trace);
        return trace.view().spans().stream().filter(s -> s.name().equals("embed_query")).map(SpanRecord::attributes)
                .findFirst().orElseThrow().get("cache");
    }
}
