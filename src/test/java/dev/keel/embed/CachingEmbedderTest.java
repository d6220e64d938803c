package dev.keel.embed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.SampleCorpus;
import dev.keel.store.Database;
import dev.keel.store.EmbeddingCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CachingEmbedderTest {
    private static final int CAPACITY = 16;
    @TempDir
    Path dir;
    private Database db;
    private CachingEmbedder embedder;

    /** A small passage cache over the shared model (used through the plain {@link Embedder} side, which caches nothing). */
    @BeforeEach
    void open() {
        db = Database.open(dir);
        embedder = new CachingEmbedder(SampleCorpus.keel().embedder(), new EmbeddingCache(db), CAPACITY);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static List<String> passages(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + " passage number " + i).toList();
    }

    @Test
    void passagesAndQueriesAreNeverStoredOnDisk() {
        embedder.embedPassages("t", passages("disk", 300));
        embedder.embedDocuments(passages("plain", 50));
        for (String q : passages("query", 50)) embedder.embedQuery(q);
        assertThat(embedder.storedVectors()).isZero();
    }

    @Test
    void thePassageCacheHoldsAtMostItsCapacity() {
        List<String> texts = passages("bounded", CAPACITY * 4);
        embedder.embedPassages("t", texts);
        long computed = embedder.computedCount();
        for (String t : texts) embedder.embedPassages("t", List.of(t));
        assertThat(embedder.computedCount() - computed).as("at most %d of %d were still cached", CAPACITY, texts.size())
                .isGreaterThanOrEqualTo(texts.size() - CAPACITY);
    }

    @Test
    void aPassageIsCachedForItsTenantOnly() {
        List<String> text = List.of("A sentence only tenant a has embedded so far.");
        embedder.embedPassages("a", text);
        long computed = embedder.computedCount();
        embedder.embedPassages("a", text);
        assertThat(embedder.computedCount()).as("a repeat in the same tenant").isEqualTo(computed);
        embedder.embedPassages("b", text);
        assertThat(embedder.computedCount()).as("the same text in another tenant").isEqualTo(computed + 1);
    }

    @Test
    void chunkVectorsAreStoredOnlyWhenADocumentKeepsThem() {
        List<String> chunks = new ArrayList<>(passages("chunk", 3));
        List<float[]> vectors = embedder.embedChunks("t", chunks);
        assertThat(embedder.storedVectors()).isZero();
        embedder.keepDocument("t", "doc", chunks, vectors);
        assertThat(embedder.storedVectors()).isEqualTo(3);
        long computed = embedder.computedCount();
        embedder.embedChunks("t", chunks);
        assertThat(embedder.computedCount()).isEqualTo(computed);
        embedder.forgetDocument("t", "doc");
        assertThat(embedder.storedVectors()).isZero();
    }
}
