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

/** A whole index moved into another through the ChunkIndex SPI answers every tenant's searches the same. */
class IndexCopyTest {
    private static final int DIM = 8;
    private final Traces traces = new Traces();

    @TempDir
    Path source, target;

    private static float[] vector(long seed) {
        Random r = new Random(seed);
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) r.nextGaussian();
        return Vectors.normalize(v);
    }

    /** Stages a document as the ingestor writes it (index text from title, section and body), without committing: the copy must commit. */
    private static void put(ChunkIndex index, String tenant, String docId, String version, String... bodies) {
        List<ChunkRecord> chunks = new ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            chunks.add(new ChunkRecord(tenant, docId, version, i, "/docs/" + docId + ".md", docId, List.of("S" + i), bodies[i],
                    ChunkRecord.indexText(docId, List.of("S" + i), bodies[i]), index.embedModel(), 0, vector(bodies[i].hashCode())));
        }
        index.replace(new DocumentRecord(tenant, docId, version, "/docs/" + docId + ".md", docId, "text/markdown", 10, chunks.size(), 0, 0, Map.of()), chunks);
    }

    /** More documents than two commit stretches, two tenants, and a tenant whose only document was deleted. */
    private static void corpus(ChunkIndex index) {
        for (int d = 0; d < 2 * IndexCopy.COMMIT_EVERY + 7; d++) {
            put(index, "acme", "doc-" + d, "v1", "refund policy" + " filler".repeat(d) + " " + d, "shipping rule " + d); // lengths differ: no tied scores
        }
        put(index, "globex", "g", "v1", "refund policy for globex customers");
        put(index, "gone", "x", "v1", "deleted before the copy");
        index.commit();
        index.delete("gone", "x");
        index.commit();
    }

    @Test
    void everyTenantsDocumentsChunksAndVectorsArriveAndSearchTheSame() {
        try (ChunkIndex from = new LuceneChunkIndex(source, "m1", DIM); ChunkIndex to = new LuceneChunkIndex(target, "m1", DIM)) {
            corpus(from);
            assertThat(from.tenants()).containsExactly("acme", "globex");
            assertThat(IndexCopy.copy(from, to, p -> {})).isEqualTo(2L * IndexCopy.COMMIT_EVERY + 8);
            assertThat(to.tenants()).isEqualTo(from.tenants());
            assertThat(to.chunkCount()).isEqualTo(from.chunkCount());
            assertThat(to.export("acme", "doc-3")).usingRecursiveFieldByFieldElementComparator().isEqualTo(from.export("acme", "doc-3"));
            for (String tenant : List.of("acme", "globex")) {
                for (SearchMode mode : SearchMode.values()) {
                    SearchRequest q = new SearchRequest(tenant, "refund policy", vector(42), mode, 10, SearchConfig.DEFAULTS, SearchFilters.NONE, false);
                    assertThat(to.search(q, traces.start("t", tenant)).hits()).extracting(h -> h.chunk().docId() + "#" + h.chunk().ordinal() + "@" + h.score())
                            .isEqualTo(from.search(q, traces.start("t", tenant)).hits().stream()
                                    .map(h -> h.chunk().docId() + "#" + h.chunk().ordinal() + "@" + h.score()).toList());
                }
            }
        }
    }

    @Test
    void aRerunCopiesOnlyWhatIsMissingOrChanged() {
        try (ChunkIndex from = new LuceneChunkIndex(source, "m1", DIM); ChunkIndex to = new LuceneChunkIndex(target, "m1", DIM)) {
            corpus(from);
            IndexCopy.copy(from, to, p -> {});
            assertThat(IndexCopy.copy(from, to, p -> {})).isZero();
            put(from, "acme", "doc-5", "v2", "a changed policy");
            from.commit();
            assertThat(IndexCopy.copy(from, to, p -> {})).isEqualTo(1);
            assertThat(to.chunks("acme", "doc-5")).extracting(ChunkRecord::body).containsExactly("a changed policy");
        }
    }

    @Test
    void indexesOfDifferentEmbeddingModelsAreRefused() {
        try (ChunkIndex from = new LuceneChunkIndex(source, "m1", DIM); ChunkIndex to = new LuceneChunkIndex(target, "m2", DIM)) {
            assertThatThrownBy(() -> IndexCopy.copy(from, to, p -> {})).isInstanceOf(IndexException.class).hasMessageContaining("m2").hasMessageContaining("m1");
        }
    }
}
