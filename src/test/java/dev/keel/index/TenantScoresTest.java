package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.SearchConfig;
import dev.keel.embed.Vectors;
import dev.keel.trace.Traces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing another tenant writes, updates or deletes moves a tenant's scores: BM25 (term and
 * collection statistics of the title and body fields), vector, both fusions, pseudo-relevance
 * feedback (its terms and scores), and the IDF the extractive answerer weighs with.
 */
class TenantScoresTest {
    private static final int DIM = 16;
    private static final List<String> QUERIES = List.of("refund policy for annual plans", "webhook retries and signatures",
            "rotate the api secret", "invoice currency", "export audit logs");
    private static final List<String> TOPICS = List.of(
            "Refunds are granted within 30 days for annual plans; monthly plans are not refunded.",
            "Webhook deliveries are retried with exponential backoff and every request carries a signature header.",
            "Rotate an API secret from the settings page; the old secret stays valid for 24 hours.",
            "Invoices are issued in the currency of the billing address and can be exported as PDF.",
            "Audit logs can be exported as JSON lines and are kept for one year.",
            "Single sign-on supports SAML and OIDC providers for enterprise plans.");
    private static final SearchConfig RRF = new SearchConfig(SearchConfig.Fusion.RRF, 60, 0.5, 50, 10, false, 0.7).withPrf(false);
    private static final SearchConfig WEIGHTED = new SearchConfig(SearchConfig.Fusion.WEIGHTED, 60, 0.5, 50, 10, false, 0.7);
    private static final SearchConfig PRF = RRF.withPrf(true);
    private static final SearchConfig TITLE_HEAVY = new SearchConfig(SearchConfig.Fusion.RRF, 60, 0.5, 50, 10, false, 0.7, 3, 0.5, false, 10, 10, 0.5);

    private final Traces traces = new Traces();

    /** One hit as the tenant sees it, with the vector rerankers (MMR) read. */
    record Seen(String chunkId, double score, int bm25Rank, double bm25Score, int vectorRank, double vectorScore, String vector) {}

    private static float[] vector(String text) {
        Random r = new Random(text.hashCode());
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) r.nextGaussian();
        return Vectors.normalize(v);
    }

    private static void put(ChunkIndex index, String tenant, String docId, String version, List<String> bodies) {
        List<ChunkRecord> chunks = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            chunks.add(new ChunkRecord(tenant, docId, version, i, "/docs/" + docId + ".md", docId, List.of("Part " + i), bodies.get(i),
                    docId + " › Part " + i + "\n\n" + bodies.get(i), index.embedModel(), 0, vector(bodies.get(i))));
        }
        index.replace(new DocumentRecord(tenant, docId, version, "/docs/" + docId + ".md", docId, "text/markdown", 10, chunks.size(), 0, 0, Map.of()), chunks);
        index.commit();
    }

    private static final int B_DOCS = 12;
    private static final List<String> B3_UPDATED = List.of(TOPICS.get(0) + " Updated for the new plans.");

    /** Document d of tenant b's help centre: topics in turn, 1–4 chunks. */
    private static List<String> bDocument(int d) {
        List<String> bodies = new ArrayList<>();
        for (int c = 0; c <= d % 4; c++) bodies.add(TOPICS.get((d + c) % TOPICS.size()) + " Note " + d + "." + c + " for team " + (char) ('a' + d) + ".");
        return bodies;
    }

    private static void tenantBDocuments(ChunkIndex index) {
        for (int d = 0; d < B_DOCS; d++) put(index, "b", "b" + d, "v1", bDocument(d));
    }

    /** Tenant a writes the same words many times over, one commit each, then updates and deletes some. */
    private static void tenantAChurns(ChunkIndex index) {
        for (int d = 0; d < 40; d++) {
            put(index, "a", "a" + d, "v1", List.of(QUERIES.get(d % QUERIES.size()) + " " + QUERIES.get((d + 1) % QUERIES.size()),
                    "refund refund webhook secret invoice audit " + d));
        }
        for (int d = 0; d < 40; d += 2) put(index, "a", "a" + d, "v2", List.of("policy currency logs retries " + d));
        for (int d = 1; d < 40; d += 3) {
            index.delete("a", "a" + d);
            index.commit();
        }
    }

    /** Everything tenant b can observe about scoring: each query's hits in every mode and fusion, and the answerer's IDF. */
    private Map<String, Object> whatBSees(ChunkIndex index) {
        Map<String, Object> seen = new LinkedHashMap<>();
        for (String q : QUERIES) {
            seen.put("bm25 " + q, hits(index, q, SearchMode.BM25, RRF));
            seen.put("vector " + q, hits(index, q, SearchMode.VECTOR, SearchConfig.DEFAULTS));
            seen.put("hybrid rrf " + q, hits(index, q, SearchMode.HYBRID, RRF));
            seen.put("hybrid weighted " + q, hits(index, q, SearchMode.HYBRID, WEIGHTED));
            seen.put("bm25 title-heavy " + q, hits(index, q, SearchMode.BM25, TITLE_HEAVY));
            seen.put("bm25 prf " + q, hits(index, q, SearchMode.BM25, PRF));
            seen.put("hybrid prf " + q, hits(index, q, SearchMode.HYBRID, PRF));
            seen.put("prf terms " + q, index.search(new SearchRequest("b", q, vector(q), SearchMode.HYBRID, 10, PRF, SearchFilters.NONE, true),
                    traces.start("t", "b")).expansion());
        }
        seen.put("idf", index.idf("b", List.of("refund", "polici", "webhook", "secret", "invoic", "audit", "sso", "zzz")));
        return seen;
    }

    /** Bit-identical, each query and mode on its own, so a failure names the one that moved. */
    private static void assertSameView(Map<String, Object> actual, Map<String, Object> expected, String when) {
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        expected.forEach((what, seen) -> assertThat(actual.get(what)).as(what + ", " + when).isEqualTo(seen));
    }

    private List<Seen> hits(ChunkIndex index, String query, SearchMode mode, SearchConfig settings) {
        SearchRequest req = new SearchRequest("b", query, vector(query), mode, 10, settings, SearchFilters.NONE, false);
        return index.search(req, traces.start("t", "b")).hits().stream()
                .map(h -> new Seen(h.chunk().chunkId(), h.score(), h.bm25Rank(), h.bm25Score(), h.vectorRank(), h.vectorScore(),
                        java.util.Arrays.toString(h.chunk().vector()))).toList();
    }

    @Test
    void aTenantsScoresStayBitIdenticalWhileAnotherTenantWritesUpdatesAndDeletes(@TempDir Path dir) {
        Map<String, Object> before;
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            tenantBDocuments(index);
            before = whatBSees(index);
            tenantAChurns(index);
            assertSameView(whatBSees(index), before, "while tenant a writes");
        }
        try (ChunkIndex reopened = new LuceneChunkIndex(dir, "m1", DIM)) {
            assertSameView(whatBSees(reopened), before, "after a restart, with every merge done");
        }
    }

    /**
     * Written by LuceneChunkIndex as of commit 9df962b, before per-tenant statistics: tenant b's twelve
     * documents ({@link #bDocument}, b7 replaced once) and four of tenant a's. Its chunks have no stored
     * token counts and no doc-id doc values.
     */
    private static final String INDEX_BEFORE_TENANT_STATISTICS = "/index-before-tenant-statistics";

    @Test
    void anIndexWrittenBeforeTenantStatisticsTakesNewChunksAndKeepsTenantsApart(@TempDir Path dir) throws Exception {
        try (var files = Files.list(Path.of(getClass().getResource(INDEX_BEFORE_TENANT_STATISTICS).toURI()))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "b", "b12", "v1", bDocument(12));
            put(index, "b", "b3", "v2", B3_UPDATED);
            Map<String, Object> before = whatBSees(index);
            assertThat(before.get("bm25 " + QUERIES.get(0))).asList().isNotEmpty();
            tenantAChurns(index);
            assertSameView(whatBSees(index), before, "in an index written before, while tenant a writes");
        }
    }

    @Test
    void anIndexOfTheFirstFormatIsRewrittenOnOpenSoItsOldChunksGainTheTitleField(@TempDir Path dir) throws Exception {
        try (var files = Files.list(Path.of(getClass().getResource(INDEX_BEFORE_TENANT_STATISTICS).toURI()))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        SearchConfig titleOnly = new SearchConfig(SearchConfig.Fusion.RRF, 60, 0.5, 50, 10, false, 0.7, 1, 0, false, 10, 10, 0.5);
        Map<String, Object> rewritten;
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            assertThat(hits(index, "b7", SearchMode.BM25, titleOnly)).as("b7 is a title only").extracting(Seen::chunkId)
                    .isNotEmpty().allMatch(id -> id.startsWith("b7#"));
            assertThat(index.chunks("b", "b11")).hasSize(bDocument(11).size());
            assertThat(hits(index, QUERIES.get(0), SearchMode.VECTOR, SearchConfig.DEFAULTS)).as("vectors kept").isNotEmpty();
            rewritten = whatBSees(index);
        }
        try (ChunkIndex reopened = new LuceneChunkIndex(dir, "m1", DIM)) {
            assertSameView(whatBSees(reopened), rewritten, "reopened after the rewrite");
        }
    }

    @Test
    void aTenantsScoresEqualThoseOfAnIndexHoldingOnlyItsCurrentDocuments(@TempDir Path shared, @TempDir Path alone) {
        try (ChunkIndex withOthers = new LuceneChunkIndex(shared, "m1", DIM); ChunkIndex onlyB = new LuceneChunkIndex(alone, "m1", DIM)) {
            tenantBDocuments(withOthers);
            tenantAChurns(withOthers);
            put(withOthers, "b", "b3", "v2", B3_UPDATED);
            withOthers.delete("b", "b5");
            withOthers.commit();

            for (int d = 0; d < B_DOCS; d++) {
                if (d == 3) put(onlyB, "b", "b3", "v2", B3_UPDATED);
                else if (d != 5) put(onlyB, "b", "b" + d, "v1", bDocument(d));
            }

            assertSameView(whatBSees(withOthers), whatBSees(onlyB), "shared index vs an index of b's documents only");
        }
    }
}
