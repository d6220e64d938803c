package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.keel.config.SearchConfig;
import dev.keel.embed.Vectors;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BM25 over weighted title and body fields, and RM3 pseudo-relevance feedback drawn from the searching tenant's chunks only. */
class LexicalRankingTest {
    private static final int DIM = 8;
    private final Traces traces = new Traces();

    private static float[] vector(String text) {
        Random r = new Random(text.hashCode());
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) r.nextGaussian();
        return Vectors.normalize(v);
    }

    /** A one-chunk document with its own title and section path. */
    private static void put(ChunkIndex index, String tenant, String docId, String title, List<String> section, String body) {
        ChunkRecord chunk = new ChunkRecord(tenant, docId, "v1", 0, "/docs/" + docId + ".md", title, section, body,
                ChunkRecord.indexText(title, section, body), index.embedModel(), 0, vector(body));
        index.replace(new DocumentRecord(tenant, docId, "v1", "/docs/" + docId + ".md", title, "text/markdown", 10, 1, 0, 0, Map.of()), List.of(chunk));
        index.commit();
    }

    private static SearchConfig weights(double title, double body) {
        SearchConfig d = SearchConfig.DEFAULTS;
        return new SearchConfig(d.fusion(), d.rrfK(), d.alpha(), d.candidates(), d.topK(), d.mmr(), d.mmrLambda(),
                title, body, false, d.prfDocs(), d.prfTerms(), d.prfWeight());
    }

    private static final SearchConfig WITH_PRF = SearchConfig.DEFAULTS.withPrf(true);
    private static final SearchConfig WITHOUT_PRF = SearchConfig.DEFAULTS.withPrf(false);

    private SearchResult search(ChunkIndex index, String tenant, String query, SearchMode mode, SearchConfig settings) {
        return index.search(new SearchRequest(tenant, query, vector(query), mode, 10, settings, SearchFilters.NONE, true), traces.start("t", tenant));
    }

    private static List<String> docIds(SearchResult r) {
        return r.hits().stream().map(h -> h.chunk().docId()).toList();
    }

    /** "turbine" in one chunk's title only and in another's body only, both otherwise alike. */
    private static void titleAndBodyMatches(ChunkIndex index) {
        put(index, "t", "in-title", "Turbine blade inspection", List.of(), "Inspect every blade for cracks before the flight.");
        put(index, "t", "in-body", "Blade inspection handbook", List.of(), "Inspect every turbine blade for cracks before flight.");
    }

    @Test
    void aTitleMatchOutranksABodyOnlyMatchWhenTheTitleWeighsMore(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            titleAndBodyMatches(index);
            assertThat(docIds(search(index, "t", "turbine", SearchMode.BM25, weights(3, 1)))).containsExactly("in-title", "in-body");
        }
    }

    @Test
    void aBodyMatchOutranksATitleOnlyMatchWhenTheBodyWeighsMore(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            titleAndBodyMatches(index);
            assertThat(docIds(search(index, "t", "turbine", SearchMode.BM25, weights(1, 3)))).containsExactly("in-body", "in-title");
        }
    }

    @Test
    void aFieldOfWeightZeroMatchesNothing(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            titleAndBodyMatches(index);
            assertThat(docIds(search(index, "t", "turbine", SearchMode.BM25, weights(0, 1)))).containsExactly("in-body");
            assertThat(docIds(search(index, "t", "turbine", SearchMode.BM25, weights(1, 0)))).containsExactly("in-title");
        }
    }

    @Test
    void theSectionPathCountsAsTitle(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "guide", "Operator guide", List.of("Refunds", "Annual plans"), "Ask support within thirty days.");
            put(index, "t", "other", "Operator guide", List.of("Invoices"), "Ask support about currencies.");
            SearchResult r = search(index, "t", "annual refunds", SearchMode.BM25, weights(1, 1));
            assertThat(docIds(r)).containsExactly("guide");
            assertThat(r.debug().get(0).entries().get(0).parts()).containsOnlyKeys("title", "body").containsEntry("body", 0.0);
        }
    }

    @Test
    void theDebugViewSplitsEachBm25ScoreIntoPartsThatAddUpToIt(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            titleAndBodyMatches(index);
            put(index, "t", "both", "Turbine wear", List.of(), "Turbine wear shows as cracks on the blade.");
            for (SearchConfig settings : List.of(weights(2, 1), WITH_PRF)) {
                List<RankedList.Entry> bm25 = search(index, "t", "turbine cracks", SearchMode.BM25, settings).debug().get(0).entries();
                assertThat(bm25).hasSize(3);
                for (RankedList.Entry e : bm25) {
                    assertThat(e.parts().keySet()).containsAnyOf("title", "body");
                    assertThat(e.parts().values().stream().mapToDouble(Double::doubleValue).sum()).as(e.chunkId()).isCloseTo(e.score(), within(1e-4));
                }
            }
        }
    }

    @Test
    void onlyTheBm25EntriesOfFinalHitsCarryTheirParts(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            titleAndBodyMatches(index);
            SearchRequest topOne = new SearchRequest("t", "turbine", vector("turbine"), SearchMode.BM25, 1, weights(3, 1), SearchFilters.NONE, true);
            List<RankedList.Entry> bm25 = index.search(topOne, traces.start("t", "t")).debug().get(0).entries();
            assertThat(bm25).extracting(RankedList.Entry::chunkId).containsExactly("in-title#0", "in-body#0");
            assertThat(bm25.get(0).parts()).containsOnlyKeys("title", "body");
            assertThat(bm25.get(1).parts()).isEmpty();
        }
    }

    /** Tenant t's engine notes: two mention "engine" with "nozzle" and "thrust"; a third only the latter. */
    private static void engineNotes(ChunkIndex index, String tenant) {
        put(index, tenant, "n1", "Propulsion", List.of(), "The engine nozzle shapes the thrust of the exhaust.");
        put(index, tenant, "n2", "Propulsion", List.of(), "Engine thrust grows with nozzle pressure.");
        put(index, tenant, "n3", "Propulsion", List.of(), "A convergent nozzle limits thrust at high pressure ratios.");
        put(index, tenant, "n4", "Cabin", List.of(), "Cabin lighting uses light emitting diodes.");
    }

    @Test
    void feedbackFindsAChunkThatSharesTheTopHitsWordsButNoneOfTheQuerys(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            engineNotes(index, "t");
            assertThat(docIds(search(index, "t", "engine", SearchMode.BM25, WITHOUT_PRF))).containsExactlyInAnyOrder("n1", "n2");
            SearchResult r = search(index, "t", "engine", SearchMode.BM25, WITH_PRF);
            assertThat(docIds(r).subList(0, 2)).containsExactlyInAnyOrder("n1", "n2");
            assertThat(docIds(r)).contains("n3").doesNotContain("n4");
            assertThat(r.expansion()).extracting(ExpansionTerm::term).contains("engin", "nozzl", "thrust");
            assertThat(r.expansion().stream().mapToDouble(ExpansionTerm::weight).sum()).isCloseTo(1.0, within(1e-9));
            assertThat(r.debug().get(0).entries().get(2).parts()).containsKey("prf");
        }
    }

    @Test
    void feedbackTermsComeFromTheSearchingTenantsChunksOnly(@TempDir Path dir, @TempDir Path alone) {
        try (ChunkIndex shared = new LuceneChunkIndex(dir, "m1", DIM); ChunkIndex onlyT = new LuceneChunkIndex(alone, "m1", DIM)) {
            engineNotes(onlyT, "t");
            engineNotes(shared, "t");
            for (int i = 0; i < 30; i++) {
                put(shared, "attacker", "p" + i, "Engine engine", List.of("Engine"), "engine engine poison poison poison payload engine");
            }
            SearchResult seen = search(shared, "t", "engine", SearchMode.HYBRID, WITH_PRF);
            assertThat(seen.expansion()).extracting(ExpansionTerm::term).doesNotContain("poison", "payload");
            assertThat(seen.hits()).allMatch(h -> h.chunk().tenant().equals("t"));
            SearchResult expected = search(onlyT, "t", "engine", SearchMode.HYBRID, WITH_PRF);
            assertThat(seen.expansion()).isEqualTo(expected.expansion());
            assertThat(seen.hits()).extracting(h -> h.chunk().chunkId() + " " + h.score())
                    .containsExactlyElementsOf(expected.hits().stream().map(h -> h.chunk().chunkId() + " " + h.score()).toList());
        }
    }

    @Test
    void feedbackDrawsOnlyOnChunksThatPassTheFilters(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            engineNotes(index, "t");
            put(index, "t", "secret", "Notes", List.of(), "Engine engine classified codeword codeword.");
            SearchRequest req = new SearchRequest("t", "engine", vector("engine"), SearchMode.BM25, 10, WITH_PRF,
                    new SearchFilters(null, List.of("n1", "n2", "n3", "n4"), null), true);
            SearchResult r = index.search(req, traces.start("t", "t"));
            assertThat(r.expansion()).extracting(ExpansionTerm::term).doesNotContain("classifi", "codeword");
            assertThat(docIds(r)).doesNotContain("secret");
        }
    }

    @Test
    void feedbackKeepsTheQueryWithinTheTermCap(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            StringBuilder many = new StringBuilder();
            for (int i = 0; i < LuceneChunkIndex.MAX_QUERY_TERMS; i++) many.append("word").append((char) ('a' + i % 26)).append((char) ('a' + i / 26)).append(' ');
            put(index, "t", "d", "Notes", List.of(), many + " extra feedback vocabulary");
            SearchResult r = search(index, "t", many.toString(), SearchMode.BM25, WITH_PRF);
            assertThat(r.hits()).isNotEmpty();
            assertThat(r.expansion()).extracting(ExpansionTerm::term).doesNotContain("extra", "feedback", "vocabulari");
        }
    }

    @Test
    void theRelevanceModelWeighsTermsByFrequencyInScoredChunks() {
        List<ExpansionTerm> terms = RelevanceModel.expansion(List.of(
                new RelevanceModel.FeedbackDoc(2.0, List.of("nozzl", "nozzl", "thrust", "2024")),
                new RelevanceModel.FeedbackDoc(1.0, List.of("thrust", "exhaust"))), t -> 1.0, 1.0, 10, Set.of(), 10);
        // nozzl 2·2/4 = 1.0; thrust 2·1/4 + 1·1/2 = 1.0; exhaust 0.5; "2024" has no letter. Total 2.5.
        assertThat(terms).containsExactly(new ExpansionTerm("nozzl", 0.4), new ExpansionTerm("thrust", 0.4), new ExpansionTerm("exhaust", 0.2));
    }

    @Test
    void theRelevanceModelPrefersTermsFewChunksHold() {
        List<RelevanceModel.FeedbackDoc> docs = List.of(new RelevanceModel.FeedbackDoc(1.0, List.of("system", "system", "nozzl")));
        List<ExpansionTerm> terms = RelevanceModel.expansion(docs, t -> t.equals("system") ? 0.1 : 2.0, 2.0, 1, Set.of(), 10);
        assertThat(terms).extracting(ExpansionTerm::term).containsExactly("nozzl");
    }

    @Test
    void theRelevanceModelLooksUpNoIdfOnceNoLighterTermCouldMakeTheCut() {
        List<RelevanceModel.FeedbackDoc> docs = List.of(new RelevanceModel.FeedbackDoc(1.0, List.of("a1", "a1", "a1", "a1", "b1", "b1", "c1")));
        List<String> lookedUp = new java.util.ArrayList<>();
        List<ExpansionTerm> terms = RelevanceModel.expansion(docs, t -> {
            lookedUp.add(t);
            return t.equals("b1") ? 3.0 : 1.0;
        }, 3.0, 1, Set.of(), 10);
        // a1 4/7·1, then b1 2/7·3 = 6/7 takes the lead; c1 at most 1/7·3 < 6/7, so it is never looked up.
        assertThat(terms).extracting(ExpansionTerm::term).containsExactly("b1");
        assertThat(lookedUp).containsExactly("a1", "b1");
    }

    @Test
    void theRelevanceModelAddsNoNewTermBeyondTheRoomLeft() {
        List<RelevanceModel.FeedbackDoc> docs = List.of(new RelevanceModel.FeedbackDoc(1.0, List.of("engin", "nozzl", "thrust")));
        assertThat(RelevanceModel.expansion(docs, t -> 1.0, 1.0, 10, Set.of("engin"), 0)).extracting(ExpansionTerm::term).containsExactly("engin");
        assertThat(RelevanceModel.expansion(docs, t -> 1.0, 1.0, 10, Set.of("engin"), 1)).extracting(ExpansionTerm::term).containsExactly("engin", "nozzl");
    }
}
