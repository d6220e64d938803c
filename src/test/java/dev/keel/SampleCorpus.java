package dev.keel;

import dev.keel.config.KeelConfig;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.IngestReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One Keel over the bundled sample docs, shared by the tests of a run (loading the model and
 * embedding the corpus once). Tests that write use their own tenant so they don't disturb others.
 */
public final class SampleCorpus {
    public static final Path DOCS = Path.of("samples", "docs").toAbsolutePath();
    public static final Path GOLDEN = Path.of("samples", "golden.jsonl").toAbsolutePath();
    public static final Path PARAPHRASE = Path.of("samples", "paraphrase.jsonl").toAbsolutePath();
    private static Keel keel;
    private static IngestReport firstIngest;

    private SampleCorpus() {}

    public static synchronized Keel keel() {
        if (keel == null) {
            try {
                Path dir = Files.createTempDirectory("keel-test-");
                keel = Keel.open(KeelConfig.parse("server:\n  port: 0\n  max_body_bytes: 1048576\n", k -> null), dir);
                firstIngest = keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(DOCS), false,
                        keel.traces().start("ingest", Keel.DEFAULT_TENANT), IngestListener.NONE);
                Runtime.getRuntime().addShutdownHook(new Thread(keel::close));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return keel;
    }

    public static synchronized IngestReport firstIngest() {
        keel();
        return firstIngest;
    }
}
