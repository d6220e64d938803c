package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.config.SearchConfig;
import dev.keel.index.SearchMode;
import dev.keel.ingest.IngestListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fixed four-document BEIR collection whose BM25 rankings are plain, scored end to end: ingest, search, collapse to documents, metrics. */
class RetrievalEvaluationTest {
    private static void write(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("qrels"));
        Files.writeString(dir.resolve("corpus.jsonl"), String.join("\n",
                "{\"_id\":\"d1\",\"title\":\"Turbine blades\",\"text\":\"Cracks in turbine blades grow under cyclic load.\"}",
                "{\"_id\":\"d2\",\"title\":\"Wing flutter\",\"text\":\"Flutter of a swept wing at transonic speed.\"}",
                "{\"_id\":\"d3\",\"title\":\"Boundary layers\",\"text\":\"Transition of the boundary layer on a flat plate.\"}",
                "{\"_id\":\"d4\",\"title\":\"Nozzle flow\",\"text\":\"Supersonic flow in a convergent divergent nozzle.\"}",
                "{\"_id\":\"d5\",\"title\":\"\",\"text\":\"\"}"));
        Files.writeString(dir.resolve("queries.jsonl"), String.join("\n",
                "{\"_id\":\"q1\",\"text\":\"cracks in turbine blades\"}",
                "{\"_id\":\"q2\",\"text\":\"boundary layer transition on a wing\"}",
                "{\"_id\":\"q3\",\"text\":\"unjudged query\"}"));
        Files.writeString(dir.resolve("qrels").resolve("test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td3\t1\nq2\td2\t1\n");
    }

    @Test
    void bm25MetricsOfAFixedCollectionAreTheHandComputedOnes(@TempDir Path data, @TempDir Path collection) throws Exception {
        write(collection);
        BeirDataset dataset = BeirDataset.load(collection, "test");
        try (Keel keel = Keel.open(KeelConfig.defaults(), data)) {
            assertThat(RetrievalEvaluation.ingest(keel, dataset, IngestListener.NONE)).as("the empty d5 is skipped").isEqualTo(4);
            var results = RetrievalEvaluation.evaluate(keel, dataset, List.of(SearchMode.BM25, SearchMode.HYBRID), SearchConfig.DEFAULTS);
            // q1 ranks [d1] (d3 shares no word): nDCG 2 / (2 + 1/log2 3), recall 1/2, RR 1.
            // q2 ranks [d3, d2] (three words against one): nDCG (1/log2 3) / 1, recall 1, RR 1/2.
            double log2of3 = Math.log(3) / Math.log(2);
            RetrievalEvaluation.ModeResult bm25 = results.get("bm25");
            assertThat(bm25.ndcgAt10()).isCloseTo((2 / (2 + 1 / log2of3) + 1 / log2of3) / 2, within(1e-9));
            assertThat(bm25.recallAt10()).isCloseTo(0.75, within(1e-9));
            assertThat(bm25.recallAt100()).isCloseTo(0.75, within(1e-9));
            assertThat(bm25.mrrAt10()).isCloseTo(0.75, within(1e-9));
            assertThat(results.get("hybrid").recallAt100()).as("the vector side ranks all four").isCloseTo(1.0, within(1e-9));
        }
    }
}
