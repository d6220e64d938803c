package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.keel.config.IndexConfig;
import dev.keel.config.SearchConfig;
import dev.keel.embed.Vectors;
import dev.keel.engines.SolrCloud;
import dev.keel.trace.Traces;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SolrCloud index against a real two-node SolrCloud: the {@link ChunkIndex} contract, tenant isolation, hostile ids, Solr's failures. */
class SolrChunkIndexTest {
    private static final int DIM = 8;
    private static SolrCloud cloud;
    private static SolrChunkIndex index;
    private final Traces traces = new Traces();

    @BeforeAll
    static void startSolr() {
        cloud = SolrCloud.start();
        index = new SolrChunkIndex(config("contract"), "m1", DIM);
    }

    @AfterAll
    static void stopSolr() {
        if (index != null) index.close();
        if (cloud != null) cloud.close();
    }

    static IndexConfig config(String prefix) {
        return new IndexConfig(IndexConfig.Kind.SOLR, cloud.nodeUrls(), prefix, 2, 10_000);
    }

    static float[] vector(long seed) {
        Random r = new Random(seed);
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) r.nextGaussian();
        return Vectors.normalize(v);
    }

    private static List<ChunkRecord> chunks(ChunkIndex index, String tenant, String docId, String version, String... bodies) {
        List<ChunkRecord> chunks = new ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            chunks.add(new ChunkRecord(tenant, docId, version, i, "/docs/" + docId + ".md", docId, List.of("S" + i), bodies[i],
                    ChunkRecord.indexText(docId, List.of("S" + i), bodies[i]), index.embedModel(), 0, vector(bodies[i].hashCode())));
        }
        return chunks;
    }

    private static DocumentRecord doc(String tenant, String docId, String version, int chunks) {
        return new DocumentRecord(tenant, docId, version, "/docs/" + docId + ".md", docId, "text/markdown", 10, chunks, 0, 0, Map.of("k", "v"));
    }

    static void put(ChunkIndex index, String tenant, String docId, String version, String... bodies) {
        index.replace(doc(tenant, docId, version, bodies.length), chunks(index, tenant, docId, version, bodies));
        index.commit();
    }

    private static SearchRequest query(String tenant, String text, SearchMode mode) {
        return new SearchRequest(tenant, text, vector(text.hashCode()), mode, 10, SearchConfig.DEFAULTS, SearchFilters.NONE, true);
    }

    @Test
    void searchesNeverReturnAnotherTenantsChunks() {
        put(index, "acme", "a", "v1", "refund policy for acme customers");
        put(index, "globex", "g", "v1", "refund policy for globex customers");
        for (SearchMode mode : SearchMode.values()) {
            SearchResult r = index.search(query("acme", "refund policy", mode), traces.start("t", "acme"));
            assertThat(r.hits()).isNotEmpty().allMatch(h -> h.chunk().tenant().equals("acme"));
        }
        assertThat(index.document("globex", "a")).isEmpty();
        assertThat(index.document("acme", "a")).get().extracting(DocumentRecord::metadata).isEqualTo(Map.of("k", "v"));
    }

    @Test
    void ranksAsTheEmbeddedIndexDoes(@TempDir Path dir) {
        String[][] corpus = {
                {"turbines", "cracks in turbine blades grow under cyclic load", "blade fatigue in the compressor stage"},
                {"wings", "flutter of a swept wing at transonic speed", "the wing boundary layer separates near the tip"},
                {"layers", "transition of the boundary layer on a flat plate", "turbulent boundary layer skin friction"},
                {"nozzles", "supersonic flow in a convergent divergent nozzle", "shock waves in the nozzle at high pressure ratio"},
                {"heat", "heat transfer to a blunt body in hypersonic flow", "the boundary layer heats the wall"}};
        try (LuceneChunkIndex embedded = new LuceneChunkIndex(dir, "m1", DIM)) {
            for (String[] d : corpus) {
                put(embedded, "parity", d[0], "v1", d[1], d[2]);
                put(index, "parity", d[0], "v1", d[1], d[2]);
            }
            for (String q : List.of("boundary layer transition", "turbine blade cracks", "nozzle shock", "wing flutter boundary")) {
                for (SearchMode mode : SearchMode.values()) {
                    List<SearchHit> expected = embedded.search(query("parity", q, mode), traces.start("t", "parity")).hits();
                    List<SearchHit> actual = index.search(query("parity", q, mode), traces.start("t", "parity")).hits();
                    assertThat(actual).as(mode + " " + q).extracting(h -> h.chunk().chunkId())
                            .containsExactlyElementsOf(expected.stream().map(h -> h.chunk().chunkId()).toList());
                    for (int i = 0; i < expected.size(); i++) {
                        assertThat(actual.get(i).score()).as(mode + " " + q + " #" + i).isCloseTo(expected.get(i).score(), within(1e-4));
                    }
                }
            }
        }
    }

    @Test
    void anEmbeddedIndexCopiesIntoSolrWithItsVectorsAndSearchesTheSame(@TempDir Path dir) {
        try (LuceneChunkIndex embedded = new LuceneChunkIndex(dir, "m1", DIM); SolrChunkIndex target = new SolrChunkIndex(config("copy"), "m1", DIM)) {
            put(embedded, "copy-a", "one", "v1", "valves of the cooling loop", "the loop pressure limit");
            put(embedded, "copy-a", "two", "v1", "pumps and their seals");
            put(embedded, "tenant with spaces", "three", "v1", "a hashed collection name");
            assertThat(IndexCopy.copy(embedded, target, p -> {})).isEqualTo(3);
            assertThat(target.tenants()).containsExactly("copy-a", "tenant with spaces");
            assertThat(target.export("copy-a", "one")).usingRecursiveFieldByFieldElementComparator().isEqualTo(embedded.export("copy-a", "one"));
            for (SearchMode mode : SearchMode.values()) {
                assertThat(target.search(query("copy-a", "loop pressure", mode), traces.start("t", "copy-a")).hits()).extracting(h -> h.chunk().chunkId())
                        .containsExactlyElementsOf(embedded.search(query("copy-a", "loop pressure", mode), traces.start("t", "copy-a")).hits().stream()
                                .map(h -> h.chunk().chunkId()).toList());
            }
            assertThat(IndexCopy.copy(embedded, target, p -> {})).as("a rerun copies nothing").isZero();
            target.deleteCollections();
        }
    }

    @Test
    void anotherTenantsDocumentsNeverMoveATenantsScores() {
        put(index, "steady", "s1", "v1", "the refund policy covers annual plans", "refunds take five days");
        put(index, "steady", "s2", "v1", "plans and pricing for teams");
        List<Double> before = scores("steady", "refund policy plans");
        for (int i = 0; i < 5; i++) put(index, "noisy", "n" + i, "v1", "refund refund policy policy plans " + i);
        index.delete("noisy", "n0");
        index.commit();
        assertThat(scores("steady", "refund policy plans")).isEqualTo(before);
        assertThat(index.idf("steady", List.of("refund"))).isEqualTo(index.idf("steady", List.of("refund")));
        assertThat(index.idf("steady", List.of("refund")).get("refund")).isGreaterThan(index.idf("noisy", List.of("refund")).get("refund"));
    }

    private List<Double> scores(String tenant, String q) {
        List<Double> out = new ArrayList<>();
        for (SearchMode mode : SearchMode.values()) {
            index.search(query(tenant, q, mode), traces.start("t", tenant)).hits().forEach(h -> out.add(h.score()));
        }
        return out;
    }

    @Test
    void replacingADocumentSwapsAllItsChunks() {
        put(index, "t", "d", "v1", "one", "two", "three");
        put(index, "t", "d", "v2", "uno");
        assertThat(index.chunks("t", "d")).extracting(ChunkRecord::body).containsExactly("uno");
        assertThat(index.document("t", "d")).get().extracting(DocumentRecord::version).isEqualTo("v2");
        put(index, "t", "d", "v3");
        assertThat(index.chunks("t", "d")).isEmpty();
        assertThat(index.document("t", "d")).get().extracting(DocumentRecord::version).isEqualTo("v3");
    }

    @Test
    void stagedChangesAreInvisibleUntilCommit() {
        put(index, "staging", "d", "v1", "first words");
        index.replace(doc("staging", "d", "v2", 2), chunks(index, "staging", "d", "v2", "second words", "more second words"));
        index.replace(doc("staging", "e", "v1", 1), chunks(index, "staging", "e", "v1", "other"));
        assertThat(index.chunks("staging", "d")).extracting(ChunkRecord::body).containsExactly("first words");
        assertThat(index.document("staging", "e")).isEmpty();
        index.commit();
        assertThat(index.chunks("staging", "d")).extracting(ChunkRecord::body).containsExactly("second words", "more second words");
        assertThat(index.chunkCount("staging")).isEqualTo(3);
    }

    @Test
    void deletingADocumentDeletesItsChunks() {
        put(index, "del", "d", "v1", "alpha", "beta");
        assertThat(index.delete("del", "d")).isTrue();
        index.commit();
        assertThat(index.document("del", "d")).isEmpty();
        assertThat(index.chunks("del", "d")).isEmpty();
        assertThat(index.chunkCount("del")).isZero();
        assertThat(index.delete("del", "d")).isFalse();
        assertThat(index.delete("nobody-here", "d")).as("a tenant without a collection").isFalse();
    }

    @Test
    void hostileIdsAndTenantNamesAreTakenLiterally() {
        String tenant = "Acme Corp/../* OR tenant:*";
        List<String> ids = List.of("x\" OR *:*", "a} {!delete", "*", "d:1", "c:0:x", "id with spaces, commas; and \\ backslashes");
        for (String id : ids) put(index, tenant, id, "v1", "hostile body of " + id);
        put(index, "victim", "x", "v1", "hostile body of the victim");
        for (String id : ids) {
            assertThat(index.document(tenant, id)).get().extracting(DocumentRecord::docId).isEqualTo(id);
            assertThat(index.chunks(tenant, id)).singleElement().extracting(ChunkRecord::docId).isEqualTo(id);
        }
        assertThat(index.documents(tenant, 0, 100)).hasSize(ids.size());
        SearchRequest narrowed = new SearchRequest(tenant, "hostile body", vector(1), SearchMode.HYBRID, 10, SearchConfig.DEFAULTS,
                new SearchFilters(null, List.of("*"), null), false);
        assertThat(index.search(narrowed, traces.start("t", tenant)).hits()).extracting(h -> h.chunk().docId()).containsOnly("*");
        assertThat(index.delete(tenant, "*")).isTrue();
        index.commit();
        assertThat(index.documents(tenant, 0, 100)).hasSize(ids.size() - 1);
        assertThat(index.document("victim", "x")).isPresent();
        assertThat(index.search(query(tenant, "victim", SearchMode.BM25), traces.start("t", tenant)).hits()).isEmpty();
    }

    @Test
    void filtersNarrowBothRetrievers() {
        index.replace(doc("filters", "a", "v1", 1), List.of(new ChunkRecord("filters", "a", "v1", 0, "/guides/a.md", "A", List.of("Setup", "Keys"),
                "rotate api keys", "A › Setup › Keys\n\nrotate api keys", "m1", 0, vector(1), InjectionFlag.scanned(0.9, 0.5))));
        put(index, "filters", "b", "v1", "rotate api keys monthly");
        for (SearchMode mode : SearchMode.values()) {
            assertThat(filtered(mode, new SearchFilters("/guides/", List.of(), null))).containsExactly("a");
            assertThat(filtered(mode, new SearchFilters(null, List.of("b"), null))).containsExactly("b");
            assertThat(filtered(mode, new SearchFilters(null, List.of(), "Setup › K"))).containsExactly("a");
            assertThat(filtered(mode, SearchFilters.NONE.excludingFlagged())).containsExactly("b");
        }
        assertThat(index.chunks("filters", "a").get(0).injection()).isEqualTo(InjectionFlag.scanned(0.9, 0.5));
    }

    private List<String> filtered(SearchMode mode, SearchFilters filters) {
        SearchRequest r = new SearchRequest("filters", "rotate api keys", vector(7), mode, 10, SearchConfig.DEFAULTS, filters, false);
        return index.search(r, traces.start("t", "filters")).hits().stream().map(h -> h.chunk().docId()).distinct().toList();
    }

    @Test
    void searchHitsCarryTheirVectorsAndTheDebugListsNameChunks() {
        put(index, "debug", "d", "v1", "vectors for rerankers");
        SearchResult r = index.search(query("debug", "vectors", SearchMode.HYBRID), traces.start("t", "debug"));
        assertThat(r.hits().get(0).chunk().vector()).containsExactly(vector("vectors for rerankers".hashCode()), within(1e-6f));
        assertThat(r.debug()).extracting(RankedList::name).containsExactly("bm25", "vector", "fused", "final");
        assertThat(r.debug().get(3).entries()).extracting(RankedList.Entry::chunkId).containsExactly("d#0");
    }

    @Test
    void analysesTextAsTheEmbeddedIndexDoes(@TempDir Path dir) {
        String text = "The Runner's 3.5-inch U.S.A. e-mail running_fast ĀĒĪ naïve 1,000 ünïcödé";
        try (LuceneChunkIndex embedded = new LuceneChunkIndex(dir, "m1", DIM)) {
            assertThat(index.terms(text)).isEqualTo(embedded.terms(text));
        }
        put(index, "analysis", "d", "v1", text);
        Map<String, Double> idf = index.idf("analysis", index.terms("d S0 " + text));
        double absent = index.idf("analysis", List.of("zzzabsent")).get("zzzabsent");
        assertThat(idf).as("Solr indexed every term as Keel analyses it").allSatisfy((t, v) -> assertThat(v).isLessThan(absent));
    }

    @Test
    void solrErrorsBecomeIndexExceptionsThatSaySo() {
        ChunkRecord wrongSize = new ChunkRecord("errors", "d", "v1", 0, "/d", "d", List.of(), "body", "d\n\nbody", "m1", 0, new float[] {1, 0});
        assertThatThrownBy(() -> index.replace(doc("errors", "d", "v1", 1), List.of(wrongSize)))
                .isInstanceOf(IndexException.class).hasMessageContaining("Solr at http://127.0.0.1:").hasMessageContaining("Error adding field 'vector'").hasMessageNotContaining("\tat ");
    }

    @Test
    void anUnreachableSolrFailsNamingItsAddressButNotItsPassword() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        IndexConfig down = new IndexConfig(IndexConfig.Kind.SOLR, List.of("http://keel:s3cret@127.0.0.1:" + port + "/solr"), "x", 1, 2_000);
        assertThatThrownBy(() -> new SolrChunkIndex(down, "m1", DIM)).isInstanceOf(IndexException.class)
                .hasMessageContaining("cannot reach Solr at http://127.0.0.1:" + port + "/solr").hasMessageNotContaining("s3cret");
    }

    @Test
    void healthNamesLiveNodesWithoutCredentials() {
        Map<String, Object> health = index.health();
        assertThat(health).containsEntry("kind", "solr").containsEntry("configured_nodes", cloud.nodeUrls());
        assertThat((List<?>) health.get("live_nodes")).hasSize(2);
    }

    @Test
    void replicasWritingATenantsFirstDocumentsAtOnceShareOneCollection() throws Exception {
        try (SolrChunkIndex other = new SolrChunkIndex(config("contract"), "m1", DIM)) {
            List<SolrChunkIndex> replicas = List.of(index, other);
            List<java.util.concurrent.Future<?>> writes = new ArrayList<>();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                for (int i = 0; i < 4; i++) {
                    ChunkIndex replica = replicas.get(i % 2);
                    String id = "doc" + i;
                    writes.add(pool.submit(() -> put(replica, "newcomer", id, "v1", "written by a replica " + id)));
                }
                for (var w : writes) w.get();
            }
            assertThat(other.documents("newcomer", 0, 10)).hasSize(4);
            assertThat(index.chunkCount("newcomer")).isEqualTo(4);
        }
    }

    @Test
    void aCollectionOfAnotherEmbeddingModelIsRefused() {
        put(index, "modelled", "d", "v1", "vectors of model m1");
        try (SolrChunkIndex other = new SolrChunkIndex(config("contract"), "m2", DIM)) {
            assertThatThrownBy(() -> other.search(query("modelled", "vectors", SearchMode.HYBRID), traces.start("t", "modelled")))
                    .isInstanceOf(IndexException.class).hasMessageContaining("built with embedding model m1").hasMessageContaining("embeds with m2");
            assertThat(other.chunkCount("brand-new-tenant")).as("a tenant without a collection has nothing to refuse").isZero();
        }
    }

    @Test
    void aSolrThatAcceptsButNeverAnswersTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread.ofVirtual().start(() -> {
                try {
                    silent.accept();
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            IndexConfig hanging = new IndexConfig(IndexConfig.Kind.SOLR, List.of("http://127.0.0.1:" + silent.getLocalPort() + "/solr"), "x", 1, 500);
            long start = System.nanoTime();
            assertThatThrownBy(() -> new SolrChunkIndex(hanging, "m1", DIM)).isInstanceOf(IndexException.class)
                    .hasMessageContaining("did not answer").hasMessageContaining("within 500 ms");
            assertThat((System.nanoTime() - start) / 1e9).isLessThan(10);
        }
    }

    @Test
    void aCollectionAnotherKeelIsStillCreatingIsWaitedFor() throws Exception {
        String collection = SolrChunkIndex.generationName(index.collection("latecomer"), 1);
        java.net.http.HttpResponse<String> created = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(cloud.nodeUrls().get(1) + "/admin/collections?action=CREATE&name=" + collection
                        + "&numShards=1&replicationFactor=2&collection.configName=keel-v1-" + DIM + "&async=latecomer")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        put(index, "latecomer", "d", "v1", "written while the collection was being created");
        assertThat(index.chunkCount("latecomer")).isEqualTo(1);
    }
}
