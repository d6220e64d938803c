package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 in the middle of an ingest leaves an index that opens and holds each document's old or new version whole. */
class CrashSafetyTest {
    private static final Pattern ROUND = Pattern.compile("Round (\\d+) ");

    @Test
    void killDuringIngestLeavesEveryDocumentWholeAtOneVersion(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), docs = tmp.resolve("docs");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "--enable-native-access=ALL-UNNAMED",
                IngestLoop.class.getName(), data.toString(), docs.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("BATCH 2 ") && !line.equals("BATCH 2 " + IngestLoop.DOCS)) break;
            }
            assertThat(line).as("child reached round 2 mid-ingest").isNotNull();
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }

        try (Keel keel = Keel.open(KeelConfig.defaults(), data)) {
            List<DocumentRecord> docsInIndex = keel.index().documents("crash", 0, 1000);
            assertThat(docsInIndex).hasSize(IngestLoop.DOCS);
            for (DocumentRecord d : docsInIndex) {
                List<ChunkRecord> chunks = keel.index().chunks("crash", d.docId());
                assertThat(chunks).hasSize(d.chunkCount());
                assertThat(chunks).allMatch(c -> c.docVersion().equals(d.version()));
                List<String> rounds = chunks.stream().flatMap(c -> ROUND.matcher(c.body()).results().map(m -> m.group(1))).toList();
                assertThat(rounds).as("the rounds in %s", d.source()).hasSize(2).containsOnly(rounds.get(0));
            }
        }
    }
}
