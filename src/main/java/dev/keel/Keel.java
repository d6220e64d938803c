package dev.keel;

import dev.keel.agent.Agents;
import dev.keel.agent.CorpusTools;
import dev.keel.agent.McpTools;
import dev.keel.agent.Tool;
import dev.keel.agent.ToolRegistry;
import dev.keel.agent.Tools;
import dev.keel.config.GuardConfig;
import dev.keel.config.IndexConfig;
import dev.keel.config.KeelConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.embed.CachingEmbedder;
import dev.keel.embed.Embedder;
import dev.keel.eval.Judge;
import dev.keel.eval.Judges;
import dev.keel.eval.OnlineEvaluation;
import dev.keel.gateway.CaffeineResponseCache;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.gateway.LimitStore;
import dev.keel.gateway.PostgresResponseCache;
import dev.keel.gateway.RedisResponseCache;
import dev.keel.gateway.ResponseCache;
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
import dev.keel.store.Redis;
import dev.keel.store.TraceArchive;
import dev.keel.trace.OpenTelemetryExport;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The application object graph, built by hand from the configuration: metadata database (embedded, or the
 * shared PostgreSQL of {@code store.url}, which then also keeps finished traces for the other replicas),
 * embedder (with its persistent cache), index, ingestor, rerankers, answer engine, response caches, gateway and traces (with their
 * OpenTelemetry export when {@code telemetry.otlp.endpoint} is set). Owns them all;
 * {@link #close()} commits and releases the data directory. With {@code redis.url} set, rate limits, budgets and the exact
 * response cache live in Redis, shared with the other replicas; without it, in this process. With {@code store.url} set,
 * the semantic response cache is shared through PostgreSQL. Online evaluation scores a sample of answers in the background
 * and keeps its aggregates in the metadata database.
 */
public final class Keel implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Keel.class);
    public static final String DEFAULT_TENANT = "default";

    /** Counted down when {@link #close()} has finished. */
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

    private final KeelConfig config;
    private final Path dataDir;
    private final Database database;
    private final CachingEmbedder embedder;
    private final ChunkIndex index;
    private final Ingestor ingestor;
    private final AnswerEngine answers;
    private final Traces traces;
    private final McpTools mcpTools;
    private final Tools tools;
    private final Agents agents;
    private final ChatGateway gateway;
    private final GatewayCache cache;
    private final Guard guard;
    private final Ledger ledger;
    private final ApiKeys keys;
    private final Rerankers rerankers;
    private final Redis redis;
    /** Finished traces in the shared store, for the other replicas; null with the embedded store (traces stay in memory). */
    private final TraceArchive traceArchive;
    /** The semantic cache shared through the shared store; null with the embedded store (it stays in this process). */
    private final PostgresResponseCache sharedSemanticCache;
    private final OnlineEvaluation onlineEvaluation;

    private Keel(KeelConfig config, Path dataDir, Database database, CachingEmbedder embedder, ChunkIndex index, Traces traces,
                 Rerankers rerankers, BiFunction<GuardConfig, Embedder, Guard> guards, Redis redis, List<? extends Tool> ownTools) {
        this.config = config;
        this.dataDir = dataDir;
        this.database = database;
        this.traceArchive = database.shared() ? new TraceArchive(database, Duration.ofMinutes(config.store().traceRetentionMinutes())) : null;
        if (traceArchive != null) traces.archiveTo(traceArchive);
        this.embedder = embedder;
        this.index = index;
        this.traces = traces;
        this.rerankers = rerankers;
        this.redis = redis;
        this.guard = guards.apply(config.guard(), embedder);
        this.ingestor = new Ingestor(index, embedder, config.ingest(), config.embed().batchSize(), guard);
        this.ledger = new Ledger(database);
        this.keys = new ApiKeys(database);
        // Shared: the semantic table through PostgreSQL, exact entries in Redis (RedisResponseCache composes over the rest), else in this process.
        ResponseCache inProcess = new CaffeineResponseCache(config.cache());
        this.sharedSemanticCache = database.shared() && config.cache().semantic().enabled()
                ? new PostgresResponseCache(database, config.cache(), inProcess, Duration.ofMillis(config.store().timeoutMs()), traces.registry()) : null;
        ResponseCache similar = sharedSemanticCache == null ? inProcess : sharedSemanticCache;
        this.cache = new GatewayCache(config.cache(), redis == null ? similar : new RedisResponseCache(redis, config.cache(), similar), embedder,
                (tenant, docId) -> index.document(tenant, docId).map(DocumentRecord::version), traces.registry());
        LimitStore limits = redis == null ? LimitStore.inProcess(ledger) : LimitStore.redis(redis, config.redis(), ledger);
        config.redis().leaseWarning(config.gateway(), ChatGateway.REQUEST_DEADLINE).ifPresent(LOG::warn);
        // The gateway's extractive provider answers through the engine, which calls models through the gateway: the engine comes second.
        try {
            this.gateway = ChatGateway.create(config.gateway(), config.router(), System::getenv, traces.registry(), ledger,
                    (tenant, question) -> answers().asDocumentAnswerer(traces).answer(tenant, question), cache, guard, limits);
        } catch (RuntimeException e) {
            if (sharedSemanticCache != null) sharedSemanticCache.close();
            throw e;
        }
        try {
            config.answer().chatModels().forEach(gateway::checkConfigured); // names that pass through are known only now
        } catch (RuntimeException e) {
            gateway.close();
            ledger.close();
            if (traceArchive != null) traceArchive.close();
            if (sharedSemanticCache != null) sharedSemanticCache.close();
            throw e;
        }
        this.answers = new AnswerEngine(index, embedder, config.search(), config.answer(), rerankers, gateway, new Sessions(config.sessions()),
                traces.registry(), guard);
        // The one judge of production answers: eval.judge.model (billed to each answer's tenant), else the offline heuristic judge.
        Judges.Selection judged = Judges.create(this, config.eval().judgeModel(), config.answer().model(), null, "eval.judge.model");
        if (judged.warning() != null) LOG.warn("online evaluation: {}", judged.warning());
        Judge judge = judged.judge();
        this.onlineEvaluation = new OnlineEvaluation(config.eval().online(), judge, embedder, database, traces.registry());
        // Agents' tools: the built-ins, the corpus, the teams' HTTP APIs and the tools of the MCP servers that answered at startup.
        this.mcpTools = McpTools.connect(config.agents());
        List<Tool> brought = new ArrayList<>(CorpusTools.create(answers, gateway, config.guard()));
        brought.addAll(ownTools);
        try {
            this.tools = Tools.assemble(config.agents(), brought, mcpTools.tools());
        } catch (RuntimeException e) {
            mcpTools.close();
            onlineEvaluation.close();
            gateway.close();
            ledger.close();
            throw e;
        }
        this.agents = new Agents(config.agents(), config.answer().model(), gateway, guard, database, traces, tools.registry(),
                id -> keys.list().stream().filter(k -> k.id().equals(id) && k.revokedAtMillis() == null).findFirst());
    }

    /** Opens (or creates) the data directory with the in-process embedding model. */
    public static Keel open(KeelConfig config, Path dataDir) {
        return open(config, dataDir, new BgeSmallEmbedder(config.embed().threads()));
    }

    /** Opens the data directory with a given embedder (benchmarks use a synthetic one for scale). */
    public static Keel open(KeelConfig config, Path dataDir, Embedder model) {
        return open(config, dataDir, dataDir, model, Guard::create, List.of());
    }

    /**
     * Opens the data directory with the in-process embedding model and agent tools written in Java beside the configured
     * ones (an application embedding Keel registers its own; tests register tools that count their calls).
     */
    public static Keel open(KeelConfig config, Path dataDir, List<? extends Tool> ownTools) {
        return open(config, dataDir, dataDir, new BgeSmallEmbedder(config.embed().threads()), Guard::create, ownTools);
    }

    /** Opens the data directory with the in-process embedding model and the guard {@code guards} makes (tests plug in detectors of their own). */
    public static Keel open(KeelConfig config, Path dataDir, BiFunction<GuardConfig, Embedder, Guard> guards) {
        return open(config, dataDir, dataDir, new BgeSmallEmbedder(config.embed().threads()), guards, List.of());
    }

    /**
     * A scratch Keel whose index lives in {@code scratchDir} but whose embedding cache is the one in
     * {@code cacheDir}: evaluations re-run without re-embedding.
     */
    public static Keel openWithSharedCache(KeelConfig config, Path scratchDir, Path cacheDir) {
        return open(config, scratchDir, cacheDir, new BgeSmallEmbedder(config.embed().threads()), Guard::create, List.of());
    }

    private static Keel open(KeelConfig config, Path dataDir, Path cacheDir, Embedder model, BiFunction<GuardConfig, Embedder, Guard> guards,
                             List<? extends Tool> ownTools) {
        Traces traces = new Traces(OpenTelemetryExport.create(config.telemetry()));
        Rerankers rerankers;
        try {
            rerankers = new Rerankers(config.rerank(), traces.registry()); // a bad ONNX model directory fails here, before anything opens
        } catch (RuntimeException e) {
            model.close();
            traces.close();
            throw e;
        }
        Database db;
        try {
            db = Database.open(config.store(), cacheDir); // an unreachable shared store fails here, naming its address
        } catch (RuntimeException e) {
            rerankers.close();
            model.close();
            throw e;
        }
        ChunkIndex index = null;
        Redis redis = null;
        try {
            CachingEmbedder embedder = new CachingEmbedder(model, new EmbeddingCache(db), CachingEmbedder.MEMORY_ENTRIES);
            index = openIndex(config.index(), dataDir, embedder);
            if (config.redis().shared()) redis = Redis.open(config.redis(), traces.registry());
            return new Keel(config, dataDir, db, embedder, index, traces, rerankers, guards, redis, ownTools);
        } catch (RuntimeException e) {
            if (redis != null) redis.close();
            if (index != null) index.close();
            rerankers.close();
            db.close();
            model.close();
            traces.close();
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

    /** The shared Redis, when {@code redis.url} is set. */
    public Optional<Redis> redis() {
        return Optional.ofNullable(redis);
    }

    /** The semantic response cache shared through PostgreSQL, when {@code store.url} is set and the semantic cache is on. */
    public Optional<PostgresResponseCache> sharedSemanticCache() {
        return Optional.ofNullable(sharedSemanticCache);
    }

    /** The metadata database: embedded, or the shared PostgreSQL of {@code store.url}. */
    public Database database() {
        return database;
    }

    /** The tools agents may use. */
    public ToolRegistry tools() {
        return tools.registry();
    }

    /** The agents of keel.yaml and their runs (README "Running agents"). */
    public Agents agents() {
        return agents;
    }

    /** Scores a sample of production answers and watches them for drops and drift (README "Online evaluation and drift"). */
    public OnlineEvaluation onlineEvaluation() {
        return onlineEvaluation;
    }

    @Override
    public void close() {
        try {
            closeAll();
        } finally {
            closed.countDown();
        }
    }

    /**
     * Waits until {@link #close()} has finished, at most {@code timeout}: a JVM shutdown hook must, since the JVM halts
     * as soon as its hooks return, whatever the thread closing Keel still had to write (the ledger's last rows).
     */
    public boolean awaitClosed(java.time.Duration timeout) {
        try {
            return closed.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void closeAll() {
        try {
            agents.close(); // first: runs in progress stop without writing, to be resumed by the next start
            onlineEvaluation.close(); // then: its worker judges with the engine and writes to the database
            gateway.close();
            rerankers.close();
            ledger.close();
            if (traceArchive != null) traceArchive.close();
            if (sharedSemanticCache != null) sharedSemanticCache.close();
            index.commit();
            index.close();
        } finally {
            if (redis != null) redis.close();
            embedder.close();
            database.close();
            traces.close(); // last: the spans of everything above are exported, then the SDK stops
        }
    }
}
