package dev.keel;

import dev.keel.config.GuardConfig;
import dev.keel.config.IndexConfig;
import dev.keel.config.KeelConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.embed.CachingEmbedder;
import dev.keel.embed.Embedder;
import dev.keel.gateway.CaffeineResponseCache;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.guard.Guard;
import dev.keel.index.ChunkIndex;
import dev.keel.index.DocumentRecord;
import dev.keel.index.LuceneChunkIndex;
import dev.keel.index.SolrChunkIndex;
import dev.keel.ingest.Ingestor;
import dev.keel.rag.AnswerEngine;
import dev.keel.rag.Sessions;
import dev.keel.rag.Rerankers;
import dev.keel.store.ApiKeys;
import dev.keel.store.Database;
import dev.keel.store.EmbeddingCache;
import dev.keel.store.Ledger;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.util.function.BiFunction;

/**
 * The application object graph, built by hand from the configuration: metadata database,
 * embedder (with its persistent cache), index, ingestor, rerankers, answer engine, response caches, gateway and traces. Owns them all;
 * {@link #close()} commits and releases the data directory.
 */
public final class Keel implements AutoCloseable {
    public static final String DEFAULT_TENANT = "default";

    private final KeelConfig config;
    private final Path dataDir;
    private final Database database;
    private final CachingEmbedder embedder;
    private final ChunkIndex index;
    private final Ingestor ingestor;
    private final AnswerEngine answers;
    private final Traces traces;
    private final ChatGateway gateway;
    private final GatewayCache cache;
    private final Guard guard;
    private final Ledger ledger;
    private final ApiKeys keys;
    private final Rerankers rerankers;

    private Keel(KeelConfig config, Path dataDir, Database database, CachingEmbedder embedder, ChunkIndex index, Traces traces,
                 Rerankers rerankers, BiFunction<GuardConfig, Embedder, Guard> guards) {
        this.config = config;
        this.dataDir = dataDir;
        this.database = database;
        this.embedder = embedder;
        this.index = index;
        this.traces = traces;
        this.rerankers = rerankers;
        this.guard = guards.apply(config.guard(), embedder);
        this.ingestor = new Ingestor(index, embedder, config.ingest(), config.embed().batchSize(), guard);
        this.ledger = new Ledger(database);
        this.keys = new ApiKeys(database);
        this.cache = new GatewayCache(config.cache(), new CaffeineResponseCache(config.cache()), embedder,
                (tenant, docId) -> index.document(tenant, docId).map(DocumentRecord::version), traces.registry());
        // The gateway's extractive provider answers through the engine, which calls models through the gateway: the engine comes second.
        this.gateway = ChatGateway.create(config.gateway(), config.router(), System::getenv, traces.registry(), ledger,
                (tenant, question) -> answers().asDocumentAnswerer(traces).answer(tenant, question), cache, guard);
        try {
            config.answer().chatModels().forEach(gateway::checkConfigured); // names that pass through are known only now
        } catch (RuntimeException e) {
            gateway.close();
            ledger.close();
            throw e;
        }
        this.answers = new AnswerEngine(index, embedder, config.search(), config.answer(), rerankers, gateway, new Sessions(config.sessions()),
                traces.registry(), guard);
    }

    /** Opens (or creates) the data directory with the in-process embedding model. */
    public static Keel open(KeelConfig config, Path dataDir) {
        return open(config, dataDir, new BgeSmallEmbedder(config.embed().threads()));
    }

    /** Opens the data directory with a given embedder (benchmarks use a synthetic one for scale). */
    public static Keel open(KeelConfig config, Path dataDir, Embedder model) {
        return open(config, dataDir, dataDir, model, Guard::create);
    }

    /** Opens the data directory with the in-process embedding model and the guard {@code guards} makes (tests plug in detectors of their own). */
    public static Keel open(KeelConfig config, Path dataDir, BiFunction<GuardConfig, Embedder, Guard> guards) {
        return open(config, dataDir, dataDir, new BgeSmallEmbedder(config.embed().threads()), guards);
    }

    /**
     * A scratch Keel whose index lives in {@code scratchDir} but whose embedding cache is the one in
     * {@code cacheDir}: evaluations re-run without re-embedding.
     */
    public static Keel openWithSharedCache(KeelConfig config, Path scratchDir, Path cacheDir) {
        return open(config, scratchDir, cacheDir, new BgeSmallEmbedder(config.embed().threads()), Guard::create);
    }

    private static Keel open(KeelConfig config, Path dataDir, Path cacheDir, Embedder model, BiFunction<GuardConfig, Embedder, Guard> guards) {
        Traces traces = new Traces();
        Rerankers rerankers;
        try {
            rerankers = new Rerankers(config.rerank(), traces.registry()); // a bad ONNX model directory fails here, before anything opens
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        Database db = Database.open(cacheDir);
        ChunkIndex index = null;
        try {
            CachingEmbedder embedder = new CachingEmbedder(model, new EmbeddingCache(db), CachingEmbedder.MEMORY_ENTRIES);
            index = openIndex(config.index(), dataDir, embedder);
            return new Keel(config, dataDir, db, embedder, index, traces, rerankers, guards);
        } catch (RuntimeException e) {
            if (index != null) index.close();
            rerankers.close();
            db.close();
            model.close();
            throw e;
        }
    }

    /** The configured index: the embedded one in the data directory (the default), or Keel's collections on SolrCloud. */
    private static ChunkIndex openIndex(IndexConfig config, Path dataDir, Embedder embedder) {
        return switch (config.kind()) {
            case LUCENE -> new LuceneChunkIndex(dataDir.resolve("index"), embedder.modelId(), embedder.dimension());
            case SOLR -> new SolrChunkIndex(config, embedder.modelId(), embedder.dimension());
        };
    }

    public KeelConfig config() {
        return config;
    }

    public Path dataDir() {
        return dataDir;
    }

    public CachingEmbedder embedder() {
        return embedder;
    }

    public ChunkIndex index() {
        return index;
    }

    public Ingestor ingestor() {
        return ingestor;
    }

    public AnswerEngine answers() {
        return answers;
    }

    public ChatGateway gateway() {
        return gateway;
    }

    /** The guardrails: injection, PII and output checks. */
    public Guard guard() {
        return guard;
    }

    /** The response caches of chat completions, responses and answers. */
    public GatewayCache cache() {
        return cache;
    }

    public ApiKeys keys() {
        return keys;
    }

    public Ledger ledger() {
        return ledger;
    }

    public Traces traces() {
        return traces;
    }

    @Override
    public void close() {
        try {
            gateway.close();
            rerankers.close();
            ledger.close();
            index.commit();
            index.close();
        } finally {
            embedder.close();
            database.close();
        }
    }
}
