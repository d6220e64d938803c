package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.IndexConfig;
import dev.keel.config.SearchConfig;
import dev.keel.embed.Vectors;
import dev.keel.engines.SolrCloud;
import dev.keel.trace.Traces;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    private static float[] vector(long seed) {
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
}
