package dev.keel.cli;

import dev.keel.config.IndexConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.index.ChunkIndex;
import dev.keel.index.IndexCopy;
import dev.keel.index.LuceneChunkIndex;
import dev.keel.index.SolrChunkIndex;

import dev.keel.config.ConfigException;
import dev.keel.config.KeelConfig;
import dev.keel.config.StoreConfig;
import dev.keel.store.Database;
import dev.keel.store.StoreCopy;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keel migrate --from sqlite:DIR --to postgres://…}: copies an embedded installation's keys,
 * usage ledger and embedding cache into a shared PostgreSQL, with progress; resumable (see {@link StoreCopy}).
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Copy an embedded installation (API keys, usage ledger, embedding cache) into a shared PostgreSQL,",
                "and its index into SolrCloud when --config sets index.kind: solr.",
                "Stop the server that uses DIR first.",
                "Safe to run again after an interruption: it continues where it stopped, copying nothing twice.",
                "The password comes from --config's store.password, else $PGPASSWORD, else the URL (where other users can read it)."})
final class MigrateCommand implements Callable<Integer> {
    private static final String SQLITE = "sqlite:";

    @Option(names = "--from", required = true, paramLabel = "sqlite:DIR", description = "The data directory of the embedded installation.")
    String from;

    @Option(names = "--to", required = true, paramLabel = "URL", description = "postgres://user@host:port/database or jdbc:postgresql://…")
    String to;

    @Option(names = "--config", paramLabel = "FILE", description = "keel.yaml whose store section gives user, password and timeouts.")
    Path config;

    @Option(names = "--batch-size", defaultValue = "1000", paramLabel = "N", description = "Rows per committed batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Override
    public Integer call() {
        if (!from.startsWith(SQLITE)) throw new IllegalArgumentException("--from must be sqlite:DIR (the data directory of an embedded installation)");
        if (batchSize < 1 || batchSize > 100_000) throw new IllegalArgumentException("--batch-size must be from 1 to 100000");
        Path dir = Path.of(from.substring(SQLITE.length()));
        if (!Files.isRegularFile(dir.resolve("keel.db"))) throw new IllegalArgumentException("no embedded installation in " + dir + " (keel.db not found)");
        StoreConfig target = target();
        PrintStream err = System.err;
        try (Database source = Database.open(dir); Database destination = Database.open(target, dir)) {
            err.println("migrate: " + dir + " → PostgreSQL " + target.address());
            long rows = StoreCopy.copy(source, destination, SQLITE + dir.resolve("keel.db").toRealPath(), batchSize, new TableProgress(err));
            System.out.printf("migrated: %d rows copied by this run; keys, ledger and embedding cache of %s are in PostgreSQL %s%n", rows, dir, target.address());
            if (indexTarget().kind() == IndexConfig.Kind.SOLR) copyIndex(dir.resolve("index"), indexTarget(), err);
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private IndexConfig indexTarget() {
        return config == null ? IndexConfig.DEFAULTS : KeelConfig.load(config).index();
    }

    /** The embedded index into Keel's SolrCloud collections, vectors and all (no re-embedding); resumable as {@link IndexCopy} is. */
    private static void copyIndex(Path source, IndexConfig solr, PrintStream err) {
        if (!Files.isDirectory(source)) {
            err.println("migrate: no embedded index in " + source + "; nothing to copy into SolrCloud");
            return;
        }
        String model;
        int dimension;
        try (BgeSmallEmbedder embedder = new BgeSmallEmbedder(1)) {
            model = embedder.modelId();
            dimension = embedder.dimension();
        }
        try (ChunkIndex from = new LuceneChunkIndex(source, model, dimension); ChunkIndex to = new SolrChunkIndex(solr, model, dimension)) {
            err.println("migrate: index " + source + " → SolrCloud (index.solr.urls)");
            long docs = IndexCopy.copy(from, to, p -> err.printf("  index %-24s %,d documents seen, %,d copied%n", p.tenant(), p.seen(), p.copied()));
            System.out.printf("migrated: %d documents copied into SolrCloud by this run%n", docs);
        }
    }

    private StoreConfig target() {
        StoreConfig base = config == null ? StoreConfig.DEFAULTS : KeelConfig.load(config).store();
        String password = base.password() != null ? base.password() : System.getenv("PGPASSWORD");
        try {
            return StoreConfig.postgres(to, base.user(), password, base.poolSize(), base.timeoutMs(), base.traceRetentionMinutes());
        } catch (ConfigException e) {
            throw new IllegalArgumentException("--to: " + e.getMessage().replace("store.url: ", ""), e);
        }
    }

    /** One line per table when it starts, every tenth of it, and when it is done. */
    private static final class TableProgress implements StoreCopy.Listener {
        private final PrintStream out;
        private String table;
        private long lastDecile = -1;

        TableProgress(PrintStream out) {
            this.out = out;
        }

        @Override
        public void batchCopied(StoreCopy.Progress p) {
            if (!p.table().equals(table)) {
                table = p.table();
                lastDecile = -1;
            }
            long decile = p.total() == 0 ? 10 : Math.min(10, 10 * p.copied() / p.total());
            if (decile != lastDecile) {
                lastDecile = decile;
                out.printf("  %-16s %,d/%,d%n", p.table(), p.copied(), p.total());
            }
        }
    }
}
