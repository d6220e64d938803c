package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.index.SolrChunkIndex;
import dev.keel.index.SolrReindex;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.IngestReport;
import dev.keel.ingest.Ingestor;
import dev.keel.trace.Trace;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keel reindex PATH…}: rebuilds a tenant's SolrCloud collection from its sources with the
 * current settings (chunking, embedder) as a new generation beside the serving one, then swaps the
 * tenant's alias to it (see {@link SolrReindex} for what that guarantees).
 */
@Command(name = "reindex", mixinStandardHelpOptions = true,
        description = {"Rebuild a tenant's SolrCloud collection from files and folders with the current keel.yaml (chunking, embedder),",
                "in the background of live traffic, and swap to it in one step when it is complete (blue/green).",
                "Documents written meanwhile are carried over; documents not among PATH are kept as they are.",
                "Exit code 3 (nothing swapped) when some documents failed."})
final class ReindexCommand implements Callable<Integer> {
    /** How long a killed run blocks the next one: its lock is renewed every third of this while the run lives. */
    private static final long DEFAULT_LOCK_TTL_SECONDS = 120;
    /** Longest lock expiry taken: a day outlasts any rebuild's stall, and a killed run must not block its tenant for longer. */
    private static final long MAX_LOCK_TTL_SECONDS = 86_400;

    @Mixin
    CommonOptions common;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or folders holding the tenant's documents (folders are walked recursively).")
    List<Path> paths;

    @Option(names = "--keep-old", description = "Keep the previous generation (not serving; the next reindex deletes it) instead of deleting it.")
    boolean keepOld;

    @Option(names = "--lock-ttl", paramLabel = "SECONDS", defaultValue = "" + DEFAULT_LOCK_TTL_SECONDS,
            description = "Expiry of the tenant's reindex lock if this run dies (default: ${DEFAULT-VALUE}).")
    long lockTtlSeconds;

    @Override
    public Integer call() {
        if (lockTtlSeconds < 1 || lockTtlSeconds > MAX_LOCK_TTL_SECONDS) {
            throw new IllegalArgumentException("--lock-ttl must be between 1 and " + MAX_LOCK_TTL_SECONDS + " seconds, got " + lockTtlSeconds);
        }
        try (Keel keel = common.open()) {
            if (!(keel.index() instanceof SolrChunkIndex solr)) {
                throw new IllegalArgumentException("keel reindex rebuilds a SolrCloud collection (index.kind: solr); the embedded index is"
                        + " rebuilt by deleting the data directory's index folder and running 'keel ingest' again");
            }
            return reindex(keel, solr, common.tenant, paths, keepOld, Duration.ofSeconds(lockTtlSeconds), new ProgressBar(System.err, "files"), System.out);
        }
    }

    /** Rebuilds {@code tenant}'s collection from {@code paths} and swaps to it unless a document failed; the exit code. */
    static int reindex(Keel keel, SolrChunkIndex solr, String tenant, List<Path> paths, boolean keepOld, Duration lockTtl, IngestListener progress,
                       PrintStream out) {
        try (SolrReindex run = SolrReindex.begin(solr, tenant, lockTtl)) {
            out.printf("building generation %d of tenant %s (generation %d serves meanwhile)%n", run.toGeneration(), tenant, run.fromGeneration());
            Ingestor builder = new Ingestor(run.target(), keel.embedder(), keel.config().ingest(), keel.config().embed().batchSize(), keel.guard());
            Trace trace = keel.traces().start("reindex", tenant);
            IngestReport report = builder.ingestPaths(tenant, paths, false, trace, progress);
            trace.finish();
            if (IngestCommand.summarize(report, out) != 0) {
                out.printf("not swapped: generation %d still serves; fix the failed documents and run the reindex again%n", run.fromGeneration());
                return 3;
            }
            SolrReindex.Outcome o = run.finish(keepOld);
            out.printf("swapped %s to generation %d: %d documents written meanwhile carried over, %d deleted meanwhile removed, %d not among"
                            + " the given paths kept as they were; generation %d %s%n", o.alias(), o.toGeneration(), o.carriedOver(), o.removed(),
                    o.keptUnbuilt(), o.fromGeneration(), o.oldKept() ? "kept (not serving)" : "deleted");
            return 0;
        }
    }
}
