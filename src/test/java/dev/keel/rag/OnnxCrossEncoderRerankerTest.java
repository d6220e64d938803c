package dev.keel.rag;

import static dev.keel.rag.MmrRerankerTest.hit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.ConfigException;
import dev.keel.config.RerankConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxCrossEncoderRerankerTest {
    private static SearchHit doc(String id, String body) {
        SearchHit h = hit("t", id, null);
        ChunkRecord c = h.chunk();
        return new SearchHit(new ChunkRecord(c.tenant(), id, "v1", 0, id + ".md", "", List.of(), body, null, "m", 0, null), 1, 1, 1, 1, 1);
    }

    @Test
    void scoresEachPairWithTheModelAndOrdersBestFirst(@TempDir Path dir) throws Exception {
        TinyCrossEncoder.write(dir, List.of("[UNK]", "zebra", "refund"), new float[] {0, 5, 1});
        try (OnnxCrossEncoderReranker reranker = new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir, 64))) {
            List<SearchHit> candidates = List.of(doc("a", "nothing here"), doc("b", "refund refund"), doc("c", "Zebra crossing"), doc("d", "one refund"));
            List<Reranker.Ranked> ranked = reranker.rerank("refund", candidates, 3);
            assertThat(ranked).extracting(Reranker.Ranked::index).containsExactly(2, 1, 3);
            assertThat(ranked.get(0).score()).isEqualTo(6.0);
        }
    }

    @Test
    void truncatesEachPairToMaxTokens(@TempDir Path dir) throws Exception {
        TinyCrossEncoder.write(dir, List.of("[UNK]", "zebra"), new float[] {0, 1});
        try (OnnxCrossEncoderReranker reranker = new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir, 16))) {
            List<Reranker.Ranked> ranked = reranker.rerank("q", List.of(doc("a", "zebra ".repeat(500))), 1);
            assertThat(ranked.get(0).score()).isLessThanOrEqualTo(16.0);
        }
    }

    @Test
    void runsThroughRerankersAsTheOnnxMethod(@TempDir Path dir) throws Exception {
        TinyCrossEncoder.write(dir, List.of("[UNK]", "zebra"), new float[] {0, 1});
        RerankConfig config = new RerankConfig(RerankConfig.Method.ONNX, 20, 0.7, RerankConfig.DEFAULTS.remote(), new RerankConfig.Onnx(dir, 64),
                RerankConfig.DEFAULTS.expansion());
        try (Rerankers rerankers = new Rerankers(config, new dev.keel.trace.Traces().registry())) {
            Rerankers.Outcome o = rerankers.rerank(rerankers.defaults(), "q", List.of(doc("a", "plain"), doc("b", "zebra")), 2,
                    new dev.keel.trace.Traces().start("t", "t"));
            assertThat(o.hits()).extracting(h -> h.chunk().docId()).containsExactly("b", "a");
        }
    }

    @Test
    void aMissingDirectoryOrFileIsAStartupErrorNamingTheSetting(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir.resolve("nope"), 64)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("rerank.onnx.model_dir").hasMessageContaining("not a directory");
        assertThatThrownBy(() -> new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir, 64)))
                .hasMessageContaining("rerank.onnx.model_dir").hasMessageContaining("missing model.onnx");
        RerankConfig configured = new RerankConfig(RerankConfig.Method.ONNX, 20, 0.7, RerankConfig.DEFAULTS.remote(), new RerankConfig.Onnx(dir, 64),
                RerankConfig.DEFAULTS.expansion());
        assertThatThrownBy(() -> new Rerankers(configured, new dev.keel.trace.Traces().registry())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("rerank.onnx.model_dir");
    }

    @Test
    void anInvalidModelOrTokenizerIsAStartupErrorNamingTheSetting(@TempDir Path dir) throws Exception {
        TinyCrossEncoder.write(dir, List.of("[UNK]", "zebra"), new float[] {0, 1});
        Files.writeString(dir.resolve("model.onnx"), "not a model");
        assertThatThrownBy(() -> new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir, 64)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("rerank.onnx.model_dir").hasMessageContaining("ONNX Runtime");
        TinyCrossEncoder.write(dir, List.of("[UNK]", "zebra"), new float[] {0, 1});
        Files.writeString(dir.resolve("tokenizer.json"), "{\"broken\":");
        assertThatThrownBy(() -> new OnnxCrossEncoderReranker(new RerankConfig.Onnx(dir, 64)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tokenizer");
    }
}
