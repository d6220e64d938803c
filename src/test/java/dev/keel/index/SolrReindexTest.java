package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.IndexConfig;
import dev.keel.config.SearchConfig;
import dev.keel.engines.SolrCloud;
import dev.keel.trace.Traces;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Blue/green generations of a tenant's SolrCloud collection, against a real two-node SolrCloud: the alias, the swap, carry-over, the lock. */
class SolrReindexTest {
    private static final int DIM = 8;
    private static final Duration LOCK_TTL = Duration.ofSeconds(30);
    private static SolrCloud cloud;
    private static SolrChunkIndex index;
    private final Traces traces = new Traces();

    @BeforeAll
    static void startSolr() {
        cloud = SolrCloud.start();
        index = new SolrChunkIndex(config("bg"), "m1", DIM);
    }

    @AfterAll
    static void stopSolr() {
        if (index != null) index.close();
        if (cloud != null) cloud.close();
    }

    private static IndexConfig config(String prefix) {
        return new IndexConfig(IndexConfig.Kind.SOLR, cloud.nodeUrls(), prefix, 2, 10_000);
    }

    private static void put(ChunkIndex into, String tenant, String docId, String version, String... bodies) {
        SolrChunkIndexTest.put(into, tenant, docId, version, bodies);
    }

    private static float[] vector(long seed) {
        return SolrChunkIndexTest.vector(seed);
    }

    private List<String> bodies(String tenant, String query) {
        SearchRequest req = new SearchRequest(tenant, query, vector(query.hashCode()), SearchMode.HYBRID, 20, SearchConfig.DEFAULTS,
                SearchFilters.NONE, false);
        return index.search(req, traces.start("t", tenant)).hits().stream().map(h -> h.chunk().body()).toList();
    }

    private static String serving(String tenant) {
        return index.aliases().get(index.collection(tenant));
    }

    @Test
    void aTenantIsServedThroughAnAliasOfItsFirstGeneration() {
        put(index, "first", "a", "v1", "alias resolution works");
        assertThat(serving("first")).isEqualTo(index.collection("first") + "_g1");
        assertThat(bodies("first", "alias resolution")).containsExactly("alias resolution works");
        assertThat(index.tenants()).contains("first");
    }

    @Test
    void theSwapServesTheRebuiltGenerationAndDeletesTheOldOne() {
        put(index, "swap", "a", "v1", "old chunking of the refund policy");
        try (SolrReindex run = SolrReindex.begin(index, "swap", LOCK_TTL)) {
            assertThat(run.fromGeneration()).isEqualTo(1);
            assertThat(run.toGeneration()).isEqualTo(2);
            put(run.target(), "swap", "a", "v1", "new chunking of the refund", "policy in smaller pieces");
            assertThat(bodies("swap", "refund policy")).as("the build is invisible before the swap").containsExactly("old chunking of the refund policy");
            SolrReindex.Outcome outcome = run.finish(false);
            assertThat(outcome.toGeneration()).isEqualTo(2);
            assertThat(outcome.oldKept()).isFalse();
        }
        assertThat(bodies("swap", "refund policy")).containsExactlyInAnyOrder("new chunking of the refund", "policy in smaller pieces");
        assertThat(serving("swap")).endsWith("_g2");
        assertThat(index.generations(index.collection("swap"))).containsExactly(2);
    }

    @Test
    void writesAndDeletesDuringTheBuildAreCarriedOverAndDocumentsNotRebuiltAreKept() {
        put(index, "live", "changed", "v1", "changed document first version");
        put(index, "live", "deleted", "v1", "deleted document");
        put(index, "live", "unbuilt", "v1", "unbuilt document nobody rebuilds");
        try (SolrReindex run = SolrReindex.begin(index, "live", LOCK_TTL)) {
            put(run.target(), "live", "changed", "v1", "changed document rebuilt from its old source");
            put(run.target(), "live", "deleted", "v1", "deleted document rebuilt");
            put(index, "live", "changed", "v2", "changed document second version written during the build");
            put(index, "live", "added", "v1", "added document written during the build");
            assertThat(index.delete("live", "deleted")).isTrue();
            index.commit();
            SolrReindex.Outcome outcome = run.finish(true);
            assertThat(outcome.carriedOver()).isEqualTo(2);
            assertThat(outcome.removed()).isEqualTo(1);
            assertThat(outcome.keptUnbuilt()).isEqualTo(1);
        }
        assertThat(index.document("live", "changed")).get().extracting(DocumentRecord::version).isEqualTo("v2");
        assertThat(index.chunks("live", "changed")).extracting(ChunkRecord::body).containsExactly("changed document second version written during the build");
        assertThat(index.document("live", "added")).isPresent();
        assertThat(index.document("live", "deleted")).isEmpty();
        assertThat(index.document("live", "unbuilt")).isPresent();
        assertThat(index.generations(index.collection("live"))).as("--keep-old").containsExactly(1, 2);
    }

    @Test
    void aWriteStagedInTheOldGenerationAndCommittedAfterTheSwapIsCarriedOver() {
        put(index, "straddle", "a", "v1", "present from the start");
        try (SolrReindex run = SolrReindex.begin(index, "straddle", LOCK_TTL)) {
            put(run.target(), "straddle", "a", "v1", "present from the start, rebuilt");
            List<ChunkRecord> chunks = List.of(new ChunkRecord("straddle", "late", "v1", 0, "/docs/late.md", "late", List.of(), "staged before the swap",
                    ChunkRecord.indexText("late", List.of(), "staged before the swap"), "m1", 0, vector(7)));
            index.replace(new DocumentRecord("straddle", "late", "v1", "/docs/late.md", "late", "text/markdown", 10, 1, 0, 0, java.util.Map.of()), chunks);
            run.finish(false);
        }
        index.commit();
        assertThat(index.document("straddle", "late")).as("the update reached generation 1, its commit generation 2").isPresent();
        assertThat(bodies("straddle", "staged swap")).contains("staged before the swap");
    }

    @Test
    void aSecondReindexOfTheSameTenantRefusesWhileAnotherTenantsProceeds() {
        put(index, "busy", "a", "v1", "busy tenant");
        put(index, "calm", "a", "v1", "calm tenant");
        try (SolrReindex first = SolrReindex.begin(index, "busy", LOCK_TTL)) {
            assertThatThrownBy(() -> SolrReindex.begin(index, "busy", LOCK_TTL)).isInstanceOf(IndexException.class)
                    .hasMessageContaining("a reindex of tenant 'busy' is already running").hasMessageContaining("lock expires at");
            assertThat(index.generations(index.collection("busy"))).as("the refused run created nothing").containsExactly(1, 2);
            try (SolrReindex other = SolrReindex.begin(index, "calm", LOCK_TTL)) {
                put(other.target(), "calm", "a", "v1", "calm tenant rebuilt");
                other.finish(false);
            }
            put(first.target(), "busy", "a", "v1", "busy tenant rebuilt");
            first.finish(false);
        }
        try (SolrReindex again = SolrReindex.begin(index, "busy", LOCK_TTL)) {
            assertThat(again.fromGeneration()).as("the lock was released with the swap").isEqualTo(2);
        }
        assertThat(bodies("busy", "tenant")).containsExactly("busy tenant rebuilt");
    }

    @Test
    void reindexingOneTenantNeverTouchesAnother() {
        put(index, "tenant-a", "a", "v1", "shared words of tenant a");
        put(index, "tenant-b", "b", "v1", "shared words of tenant b");
        String bServing = serving("tenant-b");
        try (SolrReindex run = SolrReindex.begin(index, "tenant-a", LOCK_TTL)) {
            assertThatThrownBy(() -> put(run.target(), "tenant-b", "x", "v1", "smuggled into tenant a's generation"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tenant tenant-a only");
            put(run.target(), "tenant-a", "a", "v1", "shared words of tenant a rebuilt");
            run.finish(false);
        }
        assertThat(serving("tenant-b")).isEqualTo(bServing);
        assertThat(bodies("tenant-b", "shared words")).containsExactly("shared words of tenant b");
        assertThat(bodies("tenant-a", "shared words")).containsExactly("shared words of tenant a rebuilt");
    }

    @Test
    void aFailedBuildLeavesTheOldGenerationServingAndTheNextRunSucceeds() {
        put(index, "failing", "a", "v1", "the generation that keeps serving");
        assertThatThrownBy(() -> {
            try (SolrReindex run = SolrReindex.begin(index, "failing", LOCK_TTL)) {
                put(run.target(), "failing", "a", "v1", "half of a build");
                throw new IllegalStateException("the build failed");
            }
        }).hasMessage("the build failed");
        assertThat(serving("failing")).endsWith("_g1");
        assertThat(index.generations(index.collection("failing"))).as("the partial generation is deleted").containsExactly(1);
        assertThat(bodies("failing", "generation serving")).containsExactly("the generation that keeps serving");
        try (SolrReindex next = SolrReindex.begin(index, "failing", LOCK_TTL)) {
            put(next.target(), "failing", "a", "v1", "the generation that serves next");
            next.finish(false);
        }
        assertThat(bodies("failing", "generation serves")).containsExactly("the generation that serves next");
    }

    @Test
    void replicasWritingANewTenantsFirstDocumentsAtOnceShareOneFirstGeneration() throws Exception {
        try (SolrChunkIndex other = new SolrChunkIndex(config("bg"), "m1", DIM)) {
            CompletableFuture<Void> one = CompletableFuture.runAsync(() -> put(index, "racing", "a", "v1", "written through one replica"));
            CompletableFuture<Void> two = CompletableFuture.runAsync(() -> put(other, "racing", "b", "v1", "written through another replica"));
            CompletableFuture.allOf(one, two).get(120, TimeUnit.SECONDS);
        }
        assertThat(index.generations(index.collection("racing"))).containsExactly(1);
        assertThat(serving("racing")).endsWith("_g1");
        assertThat(index.chunkCount("racing")).isEqualTo(2);
    }

    @Test
    void aRunWhoseLockWasTakenOverNeverSwaps() throws Exception {
        put(index, "overtaken", "a", "v1", "the first generation");
        try (SolrReindex first = SolrReindex.begin(index, "overtaken", LOCK_TTL)) {
            put(first.target(), "overtaken", "a", "v1", "the overtaken run's build");
            // An operator deletes the lock by hand (as after a crash, before it expired), and a second run starts.
            HttpResponse<String> cleared = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cloud.nodeUrls().get(0) + "/"
                            + serving("overtaken") + "/update?commit=true")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"delete\":{\"id\":\"m:reindex_lock\"}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(cleared.statusCode()).as(cleared.body()).isEqualTo(200);
            try (SolrReindex second = SolrReindex.begin(index, "overtaken", LOCK_TTL)) {
                assertThatThrownBy(() -> first.finish(false)).isInstanceOf(IndexException.class).hasMessageContaining("lost its lock")
                        .hasMessageContaining("nothing was swapped");
                put(second.target(), "overtaken", "a", "v1", "the second run's build");
                second.finish(false);
            }
        }
        assertThat(bodies("overtaken", "build generation")).containsExactly("the second run's build");
    }

    @Test
    void aClusterWithKeelCollectionsFromBeforeGenerationsIsRefusedByName() throws Exception {
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cloud.nodeUrls().get(0)
                        + "/admin/collections?action=CREATE&name=legacy_t_acme&numShards=1&replicationFactor=1&collection.configName=keel-v1-" + DIM))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        assertThatThrownBy(() -> new SolrChunkIndex(config("legacy"), "m1", DIM)).isInstanceOf(IndexException.class)
                .hasMessageContaining("legacy_t_acme").hasMessageContaining("without a generation suffix");
    }
}
