package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.ingest.DocumentOutcome;
import dev.keel.ingest.IngestReport;
import dev.keel.trace.Trace;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel ingest PATH…}: files and folders into the local index, with progress and a summary. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Ingest files and folders (.md .txt .html .pdf .docx) into the local index.",
                "Unchanged files are skipped without parsing or embedding. Exit code 3 when some documents failed."})
final class IngestCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or folders (folders are walked recursively).")
    List<Path> paths;

    @Option(names = "--sync", description = "Delete documents previously ingested from these folders whose files are gone.")
    boolean sync;

    @Override
    public Integer call() {
        try (Keel keel = common.open()) {
            Trace trace = keel.traces().start("ingest", common.tenant);
            IngestReport report = keel.ingestor().ingestPaths(common.tenant, paths, sync, trace, new ProgressBar(System.err, "files"));
            trace.finish();
            return summarize(report, System.out);
        }
    }

    static int summarize(IngestReport r, PrintStream out) {
        out.printf("added %d · updated %d · unchanged %d · deleted %d · failed %d — %d chunks written in %.1fs, %d flagged as possible prompt injection%n",
                r.count(DocumentOutcome.Status.ADDED), r.count(DocumentOutcome.Status.UPDATED), r.count(DocumentOutcome.Status.UNCHANGED),
                r.count(DocumentOutcome.Status.DELETED), r.count(DocumentOutcome.Status.FAILED), r.chunksWritten(), r.seconds(), r.chunksFlagged());
        for (DocumentOutcome f : r.failures()) out.println("  failed: " + f.error());
        for (DocumentOutcome o : r.outcomes()) {
            boolean written = o.status() == DocumentOutcome.Status.ADDED || o.status() == DocumentOutcome.Status.UPDATED;
            if (written && o.flaggedChunks() > 0) out.println("  flagged: " + o.source() + " (" + o.flaggedChunks() + " of " + o.chunks() + " chunks; see keel search --debug)");
        }
        if (!r.skipped().isEmpty()) {
            out.println("  skipped files of unsupported types: " + String.join(", ",
                    r.skipped().entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue()).toList()));
        }
        return r.failures().isEmpty() ? 0 : 3;
    }
}
