package dev.keel.ingest;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Child process for {@link CrashSafetyTest}: rewrites a folder of documents with a new round number
 * and ingests it, forever, announcing each batch and each committed round on stdout.
 */
public final class IngestLoop {
    static final int DOCS = 130;

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]), docs = Path.of(args[1]);
        Files.createDirectories(docs);
        try (Keel keel = Keel.open(KeelConfig.defaults(), data)) {
            for (int round = 1; ; round++) {
                for (int i = 0; i < DOCS; i++) {
                    Files.writeString(docs.resolve("doc" + i + ".md"), "# Doc " + i + "\n\n## Part one\n\nRound " + round + " first fact of document " + i
                            + ".\n\n## Part two\n\nRound " + round + " second fact of document " + i + ".\n");
                }
                int r = round;
                keel.ingestor().ingestPaths("crash", List.of(docs), false, keel.traces().start("ingest", "crash"),
                        (done, total, chunks, seconds) -> System.out.println("BATCH " + r + " " + done));
                System.out.println("ROUND " + round);
                System.out.flush();
            }
        }
    }
}
