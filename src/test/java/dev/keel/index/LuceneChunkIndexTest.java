package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.SearchConfig;
import dev.keel.embed.Vectors;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LuceneChunkIndexTest {
    private static final int DIM = 8;
    private final Traces traces = new Traces();

    private static float[] vector(long seed) {
        Random r = new Random(seed);
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) r.nextGaussian();
        return Vectors.normalize(v);
    }

    private static void put(ChunkIndex index, String tenant, String docId, String version, String... bodies) {
        List<ChunkRecord> chunks = new ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            chunks.add(new ChunkRecord(tenant, docId, version, i, "/docs/" + docId + ".md", docId, List.of("S" + i), bodies[i],
                    docId + "\n\n" + bodies[i], index.embedModel(), 0, vector(bodies[i].hashCode())));
        }
        index.replace(new DocumentRecord(tenant, docId, version, "/docs/" + docId + ".md", docId, "text/markdown", 10, chunks.size(), 0, 0, Map.of()), chunks);
        index.commit();
    }

    private static SearchRequest query(String tenant, String text, SearchMode mode) {
        return new SearchRequest(tenant, text, vector(text.hashCode()), mode, 10, SearchConfig.DEFAULTS, SearchFilters.NONE, true);
    }

    @Test
    void searchesNeverReturnAnotherTenantsChunks(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "acme", "a", "v1", "refund policy for acme customers");
            put(index, "globex", "g", "v1", "refund policy for globex customers");
            for (SearchMode mode : SearchMode.values()) {
                SearchResult r = index.search(query("acme", "refund policy", mode), traces.start("t", "acme"));
                assertThat(r.hits()).isNotEmpty().allMatch(h -> h.chunk().tenant().equals("acme"));
            }
            assertThat(index.document("globex", "a")).isEmpty();
        }
    }

    @Test
    void replacingADocumentSwapsAllItsChunks(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "one", "two", "three");
            put(index, "t", "d", "v2", "uno");
            assertThat(index.chunks("t", "d")).extracting(ChunkRecord::body).containsExactly("uno");
            assertThat(index.document("t", "d").orElseThrow().version()).isEqualTo("v2");
            assertThat(index.delete("t", "d")).isTrue();
            index.commit();
            assertThat(index.chunks("t", "d")).isEmpty();
            assertThat(index.delete("t", "d")).isFalse();
        }
    }

    @Test
    void filtersApplyInsideBothRetrievers(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "alpha", "v1", "webhook retries and signatures");
            put(index, "t", "beta", "v1", "webhook retries and signatures too");
            SearchRequest req = new SearchRequest("t", "webhook retries", vector(1), SearchMode.HYBRID, 10, SearchConfig.DEFAULTS,
                    new SearchFilters(null, List.of("beta"), null), false);
            assertThat(index.search(req, traces.start("t", "t")).hits()).isNotEmpty().allMatch(h -> h.chunk().docId().equals("beta"));
            SearchRequest bySource = new SearchRequest("t", "webhook", vector(2), SearchMode.VECTOR, 10, SearchConfig.DEFAULTS,
                    new SearchFilters("/docs/al", List.of(), null), false);
            assertThat(index.search(bySource, traces.start("t", "t")).hits()).extracting(h -> h.chunk().docId()).containsOnly("alpha");
        }
    }

    @Test
    void debugViewShowsEachRankedList(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "alpha beta", "gamma delta");
            SearchResult r = index.search(query("t", "alpha", SearchMode.HYBRID), traces.start("t", "t"));
            assertThat(r.debug()).extracting(RankedList::name).containsExactly("bm25", "vector", "fused", "final");
            assertThat(r.debug().get(0).entries()).extracting(RankedList.Entry::chunkId).startsWith("d#0");
        }
    }

    /** Words the analyser keeps as they are: "w" and a base-26 number written in letters. */
    private static String word(int n) {
        StringBuilder w = new StringBuilder("w");
        for (int i = n; i > 0 || w.length() == 1; i /= 26) w.append((char) ('a' + i % 26));
        return w.toString();
    }

    private static String words(int from, int to) {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < to; i++) out.append(word(i)).append(' ');
        return out.toString();
    }

    @Test
    void aQueryOfThousandsOfDistinctTermsThatAllOccurReturnsNormallyInEveryMode(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "first", "v1", words(0, 1_000), "refund policy " + words(0, 10));
            put(index, "t", "second", "v1", words(1_000, 2_000));
            String query = words(0, 2_000) + "refund";
            for (SearchMode mode : SearchMode.values()) {
                SearchResult r = index.search(query("t", query, mode), traces.start("t", "t"));
                assertThat(r.hits()).as(mode.name()).isNotEmpty();
            }
            assertThat(index.idf("t", List.of(words(0, 2_000).split(" ")))).hasSize(2_000);
        }
    }

    @Test
    void pastTheTermCapAQueryKeepsItsRarestTerms(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "common", "v1", "policy one", "policy two", "policy three");
            put(index, "t", "rare", "v1", words(0, LuceneChunkIndex.MAX_QUERY_TERMS));
            SearchResult r = index.search(query("t", "policy " + words(0, LuceneChunkIndex.MAX_QUERY_TERMS), SearchMode.BM25), traces.start("t", "t"));
            assertThat(r.hits()).as("'policy', in three chunks, is the one term dropped").extracting(h -> h.chunk().chunkId()).containsExactly("rare#0");
        }
    }

    @Test
    void aQueryRepeatingItsTermsThousandsOfTimesReturnsNormally(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "refund policy for annual plans", "webhook retries");
            String query = "refund webhook ".repeat(1_500);
            for (SearchMode mode : SearchMode.values()) {
                assertThat(index.search(query("t", query, mode), traces.start("t", "t")).hits()).as(mode.name()).hasSize(2);
            }
        }
    }

    @Test
    void aRepeatedQueryTermWeighsAsOftenAsItIsRepeated(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "refund policy", "webhook retries", "refund webhook");
            double once = index.search(query("t", "refund", SearchMode.BM25), traces.start("t", "t")).hits().get(0).score();
            double thrice = index.search(query("t", "refund refund refund", SearchMode.BM25), traces.start("t", "t")).hits().get(0).score();
            assertThat(thrice).isCloseTo(3 * once, org.assertj.core.api.Assertions.within(1e-5));
        }
    }

    @Test
    void hostileQueryTextAndFiltersReturnNormally(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "refund policy for annual plans");
            List<String> queries = List.of("", "   ", "the and of", "?!.,;:", "a".repeat(4_000), ("x".repeat(300) + " ").repeat(13),
                    "\ud800 lone \udfff surrogates", "\u0000\u0001\u001f control", "\u200b\u200d\ufeff zero width",
                    "e\u0301\u0301\u0301 combining", "\u202e rtl \u202d", "\ud83d\ude00\ud83d\ude00 emoji", "ｒｅｆｕｎｄ fullwidth",
                    "title:refund AND (policy OR \"annual plans\")~2 ^3 * ? \\ / [a TO z] {x TO y} -plans +refund",
                    "refund\npolicy\tannual\r\nplans");
            String longest = "€".repeat(SearchFilters.MAX_PREFIX_CHARS), longestPairs = "\ud83d\ude00".repeat(SearchFilters.MAX_PREFIX_CHARS / 2);
            List<SearchFilters> filters = List.of(SearchFilters.NONE, new SearchFilters(longest, List.of(), longestPairs),
                    new SearchFilters(null, java.util.stream.IntStream.range(0, 5_000).mapToObj(i -> "doc-" + i).toList(), null),
                    new SearchFilters("\ud800*?", List.of("\udfff", "x".repeat(40_000)), "[a-z]+.*"));
            for (String q : queries) {
                for (SearchFilters f : filters) {
                    for (SearchMode mode : SearchMode.values()) {
                        SearchRequest req = new SearchRequest("t", q, vector(q.hashCode()), mode, 10, SearchConfig.DEFAULTS, f, true);
                        assertThat(index.search(req, traces.start("t", "t")).hits()).as(mode + " " + q).isNotNull();
                    }
                }
            }
        }
    }

    @Test
    void aPrefixFilterOverTheLimitIsRefusedNamingIt() {
        assertThatThrownBy(() -> new SearchFilters("/".repeat(SearchFilters.MAX_PREFIX_CHARS + 1), List.of(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("source prefix").hasMessageContaining("256");
        assertThatThrownBy(() -> new SearchFilters(null, List.of(), "§".repeat(SearchFilters.MAX_PREFIX_CHARS + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("section prefix");
    }

    @Test
    void sourcesAndSectionsOfAnyLengthAreStoredWholeAndFilterByTheirPrefix(@TempDir Path dir) {
        String source = "/docs/" + "deep/".repeat(10_000) + "page.md", section = "Heading ".repeat(8_000) + "\ud83d\ude00";
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            ChunkRecord chunk = new ChunkRecord("t", "long", "v1", 0, source, "Long", List.of(section), "refund policy",
                    "Long\n\nrefund policy", index.embedModel(), 0, vector(3));
            index.replace(new DocumentRecord("t", "long", "v1", source, "Long", "text/markdown", 10, 1, 0, 0, Map.of()), List.of(chunk));
            index.commit();
            assertThat(index.document("t", "long").orElseThrow().source()).isEqualTo(source);
            assertThat(index.chunks("t", "long").get(0).section()).isEqualTo(section);
            SearchRequest filtered = new SearchRequest("t", "refund", vector(3), SearchMode.HYBRID, 10, SearchConfig.DEFAULTS,
                    new SearchFilters(source.substring(0, SearchFilters.MAX_PREFIX_CHARS), List.of(), "Heading Heading"), false);
            assertThat(index.search(filtered, traces.start("t", "t")).hits()).extracting(h -> h.chunk().docId()).containsExactly("long");
        }
    }

    @Test
    void anIndexBuiltWithAnotherModelRefusesToOpenAndSaysToReindex(@TempDir Path dir) {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "model-a@1", DIM)) {
            put(index, "t", "d", "v1", "x");
        }
        assertThatThrownBy(() -> new LuceneChunkIndex(dir, "model-b@2", DIM))
                .isInstanceOf(IndexException.class).hasMessageContaining("model-a@1").hasMessageContaining("Reindex");
    }

    @Test
    void anIndexOfANewerFormatRefusesToOpenAndSaysWhatToRun(@TempDir Path dir) throws Exception {
        try (ChunkIndex index = new LuceneChunkIndex(dir, "m1", DIM)) {
            put(index, "t", "d", "v1", "x");
        }
        try (var directory = org.apache.lucene.store.FSDirectory.open(dir);
             var writer = new org.apache.lucene.index.IndexWriter(directory, new org.apache.lucene.index.IndexWriterConfig())) {
            writer.setLiveCommitData(Map.of("keel.embed_model", "m1", "keel.index_format", Integer.toString(LuceneChunkIndex.FORMAT + 1)).entrySet());
            writer.commit();
        }
        assertThatThrownBy(() -> new LuceneChunkIndex(dir, "m1", DIM)).isInstanceOf(IndexException.class)
                .hasMessageContaining("newer Keel").hasMessageContaining("keel ingest");
    }
}
