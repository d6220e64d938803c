package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.SampleCorpus;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Datasets as users write them: the sample golden set, the split, and every malformed file named by its line. */
class EvalDatasetTest {
    @TempDir
    Path tmp;

    private Path file(String... lines) throws IOException {
        Path f = tmp.resolve("set.jsonl");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    @Test
    void theGoldenSetHasReferenceAnswersForEveryAnswerableQuestionAndSlicesOnEveryLine() {
        EvalDataset golden = EvalDataset.load(SampleCorpus.GOLDEN);
        assertThat(golden.examples()).hasSize(54).allSatisfy(e -> assertThat(e.slices()).isNotEmpty());
        assertThat(golden.examples().stream().filter(EvalExample::answerable)).hasSize(42)
                .allSatisfy(e -> assertThat(e.referenceAnswer()).isNotBlank());
        assertThat(golden.examples().stream().filter(e -> !e.answerable())).hasSize(12)
                .allSatisfy(e -> assertThat(e.slices()).containsExactly("unanswerable"));
        assertThat(golden.examples(EvalExample.Split.DEV).size() + golden.examples(EvalExample.Split.TEST).size()).isEqualTo(54);
        assertThat(golden.examples(EvalExample.Split.TEST)).isNotEmpty();
    }

    @Test
    void theGoldenSetsReferenceAnswersStateTheirFacts() {
        for (EvalExample e : EvalDataset.load(SampleCorpus.GOLDEN).examples()) {
            if (e.referenceAnswer() == null) continue;
            assertThat(AnswerMetrics.facts(e.referenceAnswer(), e.facts())).as(e.id() + ": " + e.referenceAnswer()).isEqualTo(1.0);
        }
    }

    @Test
    void aLineThatIsNotJsonIsNamedByFileAndLine() throws IOException {
        Path f = file("{\"id\": \"a\", \"question\": \"q?\"}", "{\"id\": \"b\", \"question\": ");
        assertThatThrownBy(() -> EvalDataset.load(f)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(f + ":2: not valid JSON");
    }

    @Test
    void aMissingQuestionADuplicateIdAndALateMetaLineAreNamed() throws IOException {
        Path missing = file("{\"id\": \"a\"}");
        assertThatThrownBy(() -> EvalDataset.load(missing)).hasMessage(missing + ":1: missing \"question\"");
        Path duplicate = file("{\"id\": \"a\", \"question\": \"q?\"}", "{\"id\": \"a\", \"question\": \"r?\"}");
        assertThatThrownBy(() -> EvalDataset.load(duplicate)).hasMessage(duplicate + ":2: duplicate id \"a\"");
        Path meta = file("{\"id\": \"a\", \"question\": \"q?\"}", "{\"_meta\": {\"locked\": true}}");
        assertThatThrownBy(() -> EvalDataset.load(meta)).hasMessageContaining(":2: \"_meta\" must be the first line");
        Path slices = file("{\"id\": \"a\", \"question\": \"q?\", \"slices\": \"billing\"}");
        assertThatThrownBy(() -> EvalDataset.load(slices)).hasMessage(slices + ":1: \"slices\" must be an array of strings");
    }

    @Test
    void aByteOrderMarkAtTheStartOfTheFileIsSkipped() throws IOException {
        Path f = file("\uFEFF{\"_meta\": {\"name\": \"bom\"}}", "{\"id\": \"a\", \"question\": \"q?\"}");
        assertThat(EvalDataset.load(f).name()).isEqualTo("bom");
        Path noMeta = file("\uFEFF{\"id\": \"a\", \"question\": \"q?\"}");
        assertThat(EvalDataset.load(noMeta).examples()).hasSize(1);
    }

    @Test
    void lockedMustBeABooleanNamingTheLine() throws IOException {
        Path f = file("{\"_meta\": {\"locked\": \"false\"}}", "{\"id\": \"a\", \"question\": \"q?\"}");
        assertThatThrownBy(() -> EvalDataset.load(f)).hasMessage(f + ":1: \"locked\" must be true or false");
    }

    @Test
    void aCopyWithoutItsMetaLineIsNotTheSameDataset() throws IOException {
        String example = "{\"id\": \"a\", \"question\": \"q?\"}";
        String locked = EvalDataset.load(file("{\"_meta\": {\"name\": \"set\", \"locked\": true}}", example)).fingerprint();
        String stripped = EvalDataset.load(file(example)).fingerprint();
        String renamed = EvalDataset.load(file("{\"_meta\": {\"name\": \"other\"}}", example)).fingerprint();
        assertThat(stripped).isNotEqualTo(locked).isNotEqualTo(renamed);
        assertThat(EvalDataset.load(file(example)).fingerprint()).isEqualTo(stripped);
    }

    @Test
    void aQuestionLongerThanAnAnswerRequestTakesIsNamed() throws IOException {
        Path f = file("{\"id\": \"a\", \"question\": \"q?\"}", "{\"id\": \"b\", \"question\": \"" + "why ".repeat(1_001) + "\"}");
        assertThatThrownBy(() -> EvalDataset.load(f)).hasMessage(f + ":2: \"question\" is longer than 4000 characters, the most an answer request takes");
    }

    @Test
    void aFileTooLargeForADatasetIsRefusedBeforeItIsRead() throws IOException {
        Path huge = tmp.resolve("huge.jsonl");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(65L << 20);
        }
        assertThatThrownBy(() -> EvalDataset.load(huge)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than 64 MiB");
    }

    @Test
    void theSplitOfAnExampleDependsOnItsIdAloneNotOnItsNeighbours() throws IOException {
        EvalDataset one = EvalDataset.load(file("{\"id\": \"q07\", \"question\": \"a?\"}"));
        EvalDataset many = EvalDataset.load(file("{\"id\": \"x\", \"question\": \"b?\"}", "{\"id\": \"q07\", \"question\": \"a?\"}"));
        assertThat(many.examples().get(1).split()).isEqualTo(one.examples().get(0).split()).isEqualTo(EvalDataset.splitOf("q07", EvalDataset.DEFAULT_TEST_SHARE));
    }

    @Test
    void aBeirCollectionKeepsItsRelevanceGrades() {
        BeirDataset beir = new BeirDataset("tiny", List.of(), Map.of("1", "what flows?"), Map.of("1", Map.of("d1", 2, "d2", 1, "d3", 0)));
        EvalExample e = EvalDataset.fromBeir(beir).examples().get(0);
        assertThat(e.relevant()).containsExactlyInAnyOrder("d1", "d2");
        assertThat(e.grade("d1")).isEqualTo(2);
        assertThat(e.grade("d2")).isEqualTo(1);
    }
}
