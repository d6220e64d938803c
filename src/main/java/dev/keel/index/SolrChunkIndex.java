package dev.keel.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.IndexConfig;
import dev.keel.index.Fusion.Scored;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;

/**
 * The index on SolrCloud 9: the embedded index's fields and ranking, with Solr doing storage,
 * replication and HNSW. Talks to Solr's JSON HTTP API (update, select, collections and configsets
 * APIs) over Keel's own Jetty 12 client, not SolrJ: SolrJ 9 brings Jetty 10's client, which cannot
 * share a classpath with Keel's Jetty 12, and the few calls Keel makes do not earn a second HTTP
 * stack ({@link SolrHttp} bounds every call by {@code index.solr.timeout_ms}).
 *
 * <p><b>Tenancy: a collection per tenant</b> ({@code PREFIX_t_NAME}, or {@code PREFIX_h_HASH} for a
 * tenant name Solr would not accept), each of one shard with {@code index.solr.replicas} copies.
 * BM25's statistics are a shard's, so a tenant's scores come from its own chunks by construction,
 * with no per-tenant statistics code and no distributed-IDF round trip; one shard keeps them exact.
 * (Routing every tenant into one collection would make each tenant's IDF depend on the others'
 * documents.) The cost is a collection per tenant: fine for hundreds of tenants, not for millions.
 * Every query also filters by tenant, and every hit's tenant is checked before it is returned.
 * A tenant's collection name is a Solr alias of a generation ({@code <name>_g<N>}): every read and
 * write goes through it, each search resolves it once (so it reads one generation throughout), and
 * {@link SolrReindex} rebuilds a tenant as the next generation and swaps the alias to it.
 *
 * <p><b>Ranking is Keel's</b>: the query's terms are analysed here by the same {@link EnglishAnalyzer}
 * chain Solr indexes with (Solr's query analyser keeps them as sent), chosen and weighted by
 * {@link QueryTerms}, expanded by {@link RelevanceModel} (RM3), and the BM25 and vector lists are fused
 * by {@link Fusion}: the code the embedded index runs. Ties are ordered by document id and chunk.
 * Vectors are indexed unquantised with cosine similarity, whose score for Keel's unit vectors is
 * the embedded index's ((1 + cos) / 2).
 *
 * <p><b>What holds on Solr</b>: a document and its chunks are one Solr block (catalogue entry as root),
 * so {@link #replace} swaps them in one step and a searcher sees the old block or the new one, never
 * a mix. Changes are invisible until {@link #commit} (no soft auto-commit; the hard auto-commit
 * opens no searcher), which commits every collection this index wrote to since its last commit,
 * on every replica, and returns once their new searchers are open. Unlike the embedded index, an
 * update Solr acknowledged is already in its transaction log: a Solr node that crashes before the
 * commit replays it on restart, so a staged change survives rather than rolls back; and a commit by
 * any Keel replica makes every staged change of that tenant visible. A tenant's BM25 statistics
 * count its own replaced chunks until Solr merges them away (never another tenant's). The
 * embedding model is checked on every chunk written, and a collection's marker document names the
 * model of its vectors: a Keel of another model refuses to use it (as the embedded index refuses to open).
 *
 * <p>Thread-safe. Owns its HTTP client; {@link #close()} releases it.
 */
public final class SolrChunkIndex implements ChunkIndex {
    static final String ID = "id", KIND = "kind", SOURCE = "source", MODIFIED = "modified_at", META_KIND = "meta";
    private static final String ROOT = "_root_", TENANT = "tenant", DOC_ID = "doc_id", VERSION = "version",
            ORDINAL = "ordinal", SOURCE_KW = "source_kw", TITLE = "title", SECTION = "section", SECTION_KW = "section_kw",
            BODY = "body", TEXT = "text", TITLE_TERMS = "title_terms", BODY_TERMS = "body_terms", VECTOR = "vector", MODEL = "model",
            INGESTED = "ingested_at", CONTENT_TYPE = "content_type", BYTES = "bytes", CHUNKS = "chunk_count",
            META = "metadata", FLAGGED_CHUNKS = "flagged_chunks", INJECTION_SCORE = "injection_score", FLAGGED = "injection_flagged";
    private static final String CHUNK = "chunk", DOC = "doc", FLAGGED_MARK = "1";
    /** A collection's marker document, naming the embedding model of its vectors. */
    private static final String MODEL_MARKER = "m:embed_model";
    /** Stored fields of a chunk as search reads them, without its vector (fetched for the final hits only). */
    private static final String CHUNK_FIELDS = String.join(",", TENANT, DOC_ID, VERSION, ORDINAL, SOURCE, TITLE, SECTION, BODY, MODEL, INGESTED,
            INJECTION_SCORE, FLAGGED);
    /** The configset Keel uploads, by version of its files and the embedder's dimension (the vector field's size is fixed in the schema). */
    private static final String CONFIGSET_VERSION = "v1";
    private static final List<String> CONFIGSET_FILES = List.of("solrconfig.xml", "schema.xml", "stopwords.txt");
    /** Tenant names used as they are in a collection name; any other is hashed (Solr accepts few characters there). */
    private static final Pattern PLAIN_TENANT = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
    /** A generation's suffix on its tenant's logical name; a tenant's part of a name never holds '_', so it cannot end so. */
    private static final Pattern GENERATION = Pattern.compile("_g([0-9]{1,9})$");
    /** Hex digits of SHA-256 naming a hashed tenant's collection: 128 bits, no collision in practice. */
    private static final int TENANT_HASH_HEX = 32;
    /** Chunks read per page when listing a document's chunks. */
    private static final int CHUNK_PAGE = 500;
    /** Between two looks at a collection another Keel is creating: replicas take a second or so to become active. */
    private static final long ACTIVE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Collections counted by one request (named in its URL, which must stay well under Jetty's 8 KiB). */
    private static final int COLLECTIONS_PER_COUNT = 50;
    /** Document frequencies asked per request (one pseudo-field each). */
    private static final int DOC_FREQ_BATCH = 512;
    /** Runs of one search: a second when a reindex deleted its generation under it; a third would mean the alias is flapping. */
    private static final int SEARCH_ATTEMPTS = 2;
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private final SolrHttp solr;
    private final IndexConfig config;
    private final String embedModel;
    private final String configSet;
    private final Analyzer analyzer = new EnglishAnalyzer();
    /** Collections known to exist (created or seen by this process). */
    private final Set<String> existing = ConcurrentHashMap.newKeySet();
    /** Collections whose embedding model this process checked: it is {@link #embedModel}. */
    private final Set<String> modelChecked = ConcurrentHashMap.newKeySet();
    /** Collections written to since their last commit. */
    private final Set<String> staged = ConcurrentHashMap.newKeySet();
    private final ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor();
    /** Set on a view that reads and writes one tenant's physical generation instead of its alias (a reindex's); null otherwise. */
    private final Pin pin;

    /** One tenant's physical collection, used instead of the tenant's alias. */
    record Pin(String tenant, String collection) {}

    /**
     * Connects to the cluster and uploads Keel's configset when it is missing.
     *
     * @throws IndexException naming the URLs (without credentials) when no node answers
     */
    public SolrChunkIndex(IndexConfig config, String embedModel, int dimension) {
        this.config = config;
        this.embedModel = embedModel;
        this.configSet = "keel-" + CONFIGSET_VERSION + "-" + dimension;
        this.solr = new SolrHttp(config.solrUrls(), config.timeoutMs());
        this.pin = null;
        try {
            liveNodes();
            uploadConfigSet(dimension);
            rejectUnaliased();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A view of {@code parent}'s cluster that reads and writes {@code pin}'s physical collection only; shares (and never closes) its client. */
    private SolrChunkIndex(SolrChunkIndex parent, Pin pin) {
        this.config = parent.config;
        this.embedModel = parent.embedModel;
        this.configSet = parent.configSet;
        this.solr = parent.solr;
        this.pin = pin;
        existing.add(pin.collection());
    }

    /** A view of one tenant's generation {@code collection} (which exists), for a reindex to build or read it beside the serving alias. */
    SolrChunkIndex pinned(String tenant, String collection) {
        return new SolrChunkIndex(this, new Pin(tenant, collection));
    }

    @Override
    public String embedModel() {
        return embedModel;
    }

    /**
     * The logical collection of {@code tenant}: a Solr alias naming the generation that serves it
     * ({@code <logical>_g<N>}), so a reindex swaps generations under every reader and writer at once.
     */
    String collection(String tenant) {
        if (PLAIN_TENANT.matcher(tenant).matches()) return config.collectionPrefix() + "_t_" + tenant;
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(tenant.getBytes(StandardCharsets.UTF_8));
            return config.collectionPrefix() + "_h_" + HexFormat.of().formatHex(hash).substring(0, TENANT_HASH_HEX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<DocumentRecord> document(String tenant, String docId) {
        JsonNode docs = select(tenant, Map.of("query", term(ID, docKey(docId)), "filter", List.of(term(TENANT, tenant)), "limit", 1, "fields", "*"))
                .path("response").path("docs");
        return docs.isEmpty() ? Optional.empty() : Optional.of(toDocument(docs.get(0)));
    }

    @Override
    public List<DocumentRecord> documents(String tenant, int offset, int limit) {
        JsonNode docs = select(tenant, Map.of("query", term(KIND, DOC), "filter", List.of(term(TENANT, tenant)), "offset", offset, "limit", limit,
                "sort", SOURCE_KW + " asc, " + DOC_ID + " asc", "fields", "*")).path("response").path("docs");
        List<DocumentRecord> out = new ArrayList<>();
        for (JsonNode d : docs) out.add(toDocument(d));
        return out;
    }

    @Override
    public List<ChunkRecord> chunks(String tenant, String docId) {
        List<ChunkRecord> out = new ArrayList<>();
        while (true) {
            JsonNode docs = select(tenant, Map.of("query", term(DOC_ID, docId), "filter", List.of(term(KIND, CHUNK), term(TENANT, tenant)),
                    "offset", out.size(), "limit", CHUNK_PAGE, "sort", ORDINAL + " asc", "fields", CHUNK_FIELDS)).path("response").path("docs");
            for (JsonNode d : docs) out.add(toChunk(d, null));
            if (docs.size() < CHUNK_PAGE) return out;
        }
    }

    @Override
    public List<ChunkRecord> export(String tenant, String docId) {
        List<ChunkRecord> out = new ArrayList<>();
        while (true) {
            JsonNode docs = select(tenant, Map.of("query", term(DOC_ID, docId), "filter", List.of(term(KIND, CHUNK), term(TENANT, tenant)),
                    "offset", out.size(), "limit", CHUNK_PAGE, "sort", ORDINAL + " asc", "fields", CHUNK_FIELDS + "," + VECTOR))
                    .path("response").path("docs");
            for (JsonNode d : docs) {
                ChunkRecord c = toChunk(d, vector(d.path(VECTOR)));
                out.add(new ChunkRecord(c.tenant(), c.docId(), c.docVersion(), c.ordinal(), c.source(), c.title(), c.sectionPath(), c.body(),
                        ChunkRecord.indexText(c.title(), c.sectionPath(), c.body()), c.embedModel(), c.ingestedAtMillis(), c.vector(), c.injection()));
            }
            if (docs.size() < CHUNK_PAGE) return out;
        }
    }

    /** Each of Keel's collections holds one tenant; its name may be a hash, so the tenant is read from a document in it. */
    @Override
    public List<String> tenants() {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (String collection : keelCollections()) {
            Optional<JsonNode> reply = solr.postJsonUnlessMissing("/" + collection + "/select", Map.of(),
                    Map.of("query", term(KIND, DOC), "limit", 1, "fields", TENANT));
            reply.map(r -> r.path("response").path("docs")).filter(docs -> !docs.isEmpty()).ifPresent(docs -> out.add(docs.get(0).path(TENANT).asText()));
        }
        return List.copyOf(out);
    }

    @Override
    public void replace(DocumentRecord doc, List<ChunkRecord> chunks) {
        Map<String, Object> root = docRecordDocument(doc);
        List<Map<String, Object>> children = new ArrayList<>(chunks.size());
        for (ChunkRecord c : chunks) {
            c.requireWritable(doc, embedModel);
            children.add(chunkDocument(c));
        }
        if (!children.isEmpty()) root.put("_childDocuments_", children);
        String collection = ensureCollection(doc.tenant());
        solr.postJson("/" + collection + "/update", Map.of("wt", "json"), List.of(root));
        staged.add(collection);
    }

    @Override
    public boolean delete(String tenant, String docId) {
        if (document(tenant, docId).isEmpty()) return false;
        String collection = target(tenant);
        // With a _root_ field, deleting a block's root by id deletes the whole block.
        solr.postJson("/" + collection + "/update", Map.of("wt", "json"), Map.of("delete", Map.of(ID, docKey(docId))));
        staged.add(collection);
        return true;
    }

    @Override
    public void commit() {
        for (String collection : List.copyOf(staged)) {
            staged.remove(collection);
            try {
                commitCollection(collection);
            } catch (RuntimeException e) {
                staged.add(collection);
                throw e;
            }
        }
    }

    @Override
    public Map<String, Double> idf(String tenant, Collection<String> terms) {
        DocFreqs df = docFreqs(target(tenant), tenant, terms);
        Map<String, Double> out = new LinkedHashMap<>();
        for (String t : terms) out.put(t, QueryTerms.bm25Idf(df.chunks(), df.of(t)));
        return out;
    }

    @Override
    public List<String> terms(String text) {
        return QueryTerms.analyse(analyzer, text);
    }

    @Override
    public long chunkCount() {
        List<String> collections = keelCollections();
        long total = 0;
        for (int from = 0; from < collections.size(); from += COLLECTIONS_PER_COUNT) {
            List<String> batch = collections.subList(from, Math.min(collections.size(), from + COLLECTIONS_PER_COUNT));
            total += solr.postJson("/" + batch.get(0) + "/select", Map.of("collection", String.join(",", batch)),
                    Map.of("query", term(KIND, CHUNK), "limit", 0)).path("response").path("numFound").asLong();
        }
        return total;
    }

    @Override
    public long chunkCount(String tenant) {
        return select(tenant, Map.of("query", term(KIND, CHUNK), "filter", List.of(term(TENANT, tenant)), "limit", 0))
                .path("response").path("numFound").asLong();
    }

    /**
     * What readiness shows: the live nodes (host and port, as Solr names them) and how many of the
     * configured nodes that is, and the collection naming; never a credential.
     *
     * @throws IndexException when no node answers
     */
    @Override
    public Map<String, Object> health() {
        List<String> live = liveNodes();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", "solr");
        out.put("live_nodes", live);
        out.put("configured_nodes", solr.nodeUrls());
        out.put("collections", config.collectionPrefix() + "_t_<tenant> | " + config.collectionPrefix() + "_h_<hash> (aliases of generations <name>_g<N>)");
        out.put("configset", configSet);
        return out;
    }

    /**
     * Searches one generation of the tenant's collection, resolved from its alias once per search, so
     * every part of the search (BM25, vectors, statistics) reads the same generation while a reindex
     * swaps the alias. A generation deleted under a search (the old one, after a swap) makes it run
     * again on the generation that serves now.
     */
    @Override
    public SearchResult search(SearchRequest req, Trace trace) {
        for (int attempt = 1; ; attempt++) {
            String collection = resolve(req.tenant());
            try {
                return search(collection, req, trace);
            } catch (GenerationGone e) {
                if (attempt == SEARCH_ATTEMPTS) throw new IndexException("the Solr collection " + collection + " disappeared during a search", e);
            }
        }
    }

    /** The physical collection serving {@code tenant} now (its alias's target; the alias itself before the tenant has one). */
    private String resolve(String tenant) {
        if (pin != null) return target(tenant);
        String alias = collection(tenant);
        return aliases().getOrDefault(alias, alias);
    }

    /** A search's generation disappeared under it (a reindex deleted it after swapping the alias away). */
    private static final class GenerationGone extends RuntimeException {
        GenerationGone(String collection) {
            super(collection, null, false, false);
        }
    }

    private SearchResult search(String collection, SearchRequest req, Trace trace) {
        int n = Math.max(req.settings().candidates(), req.topK());
        Hits seen = new Hits();
        Map<String, Object> filter = filter(req);
        CompletableFuture<Lexical> bm25 = req.mode() == SearchMode.VECTOR ? CompletableFuture.completedFuture(Lexical.NONE)
                : CompletableFuture.supplyAsync(() -> bm25(collection, req, filter, n, seen, trace), parallel);
        CompletableFuture<List<Scored>> knn = req.mode() == SearchMode.BM25 ? CompletableFuture.completedFuture(List.of())
                : CompletableFuture.supplyAsync(() -> knn(collection, req, filter, n, seen, trace), parallel);
        Lexical lexical = join(bm25);
        List<Scored> semantic = join(knn);
        List<Fusion.Fused> fused = Fusion.fuse(req, lexical.hits(), semantic, trace);
        List<Fusion.Fused> top = fused.subList(0, Math.min(req.topK(), fused.size()));
        Map<String, float[]> vectors = vectors(collection, req.tenant(), top.stream().map(f -> seen.id(f.doc())).toList());
        List<SearchHit> hits = new ArrayList<>(top.size());
        for (Fusion.Fused f : top) {
            ChunkRecord c = toChunk(seen.doc(f.doc()), vectors.get(seen.id(f.doc())));
            if (!c.tenant().equals(req.tenant())) throw new IllegalStateException("tenant isolation violated");
            hits.add(new SearchHit(c, f.score(), f.bm25Rank(), f.bm25Score(), f.vectorRank(), f.vectorScore()));
        }
        List<RankedList> debug = List.of();
        if (req.debug()) {
            debug = List.of(ranked("bm25", lexical.hits(), Scored::doc, Scored::score, seen),
                    ranked("vector", semantic, Scored::doc, Scored::score, seen),
                    ranked("fused", fused.stream().limit(n).toList(), Fusion.Fused::doc, Fusion.Fused::score, seen),
                    ranked("final", top, Fusion.Fused::doc, Fusion.Fused::score, seen));
        }
        return new SearchResult(hits, debug, req.debug() ? lexical.expansion() : List.of());
    }

    /** What the BM25 side found, best first, and the feedback terms that joined its query. */
    private record Lexical(List<Scored> hits, List<ExpansionTerm> expansion) {
        static final Lexical NONE = new Lexical(List.of(), List.of());
    }

    /** The chunks one search saw, numbered so {@link Fusion} can tell them apart. */
    private static final class Hits {
        private final Map<String, Integer> numbers = new ConcurrentHashMap<>();
        private final Map<Integer, JsonNode> docs = new ConcurrentHashMap<>();

        synchronized int number(JsonNode doc) {
            String id = doc.path(ID).asText();
            Integer known = numbers.get(id);
            if (known != null) return known;
            int n = numbers.size();
            numbers.put(id, n);
            docs.put(n, doc);
            return n;
        }

        JsonNode doc(int number) {
            return docs.get(number);
        }

        String id(int number) {
            return docs.get(number).path(ID).asText();
        }
    }

    /** BM25 over the tenant's chunks: the title and body fields weighted and added; with feedback on, a second pass with RM3's terms. */
    private Lexical bm25(String collection, SearchRequest req, Map<String, Object> filter, int n, Hits seen, Trace trace) {
        try (Span span = trace.span("bm25")) {
            List<String> analysed = terms(req.query());
            DocFreqs df = docFreqs(collection, req.tenant(), analysed);
            Map<String, Double> original = QueryTerms.select(analysed, df::of, span);
            if (original.isEmpty()) {
                span.attr("hits", 0).attr("note", "no query term occurs in the tenant's documents");
                return Lexical.NONE;
            }
            List<Object> clauses = fieldClauses(original, 1, req);
            List<JsonNode> first = lexicalSearch(collection, req, clauses, filter, n);
            span.attr("hits", first.size());
            List<Scored> hits = scored(first, seen);
            var settings = req.settings();
            if (!settings.prf() || settings.prfWeight() == 0 || hits.isEmpty()) return new Lexical(hits, List.of());
            try (Span prf = trace.span("prf")) {
                List<JsonNode> feedbackDocs = first.subList(0, Math.min(settings.prfDocs(), first.size()));
                List<ExpansionTerm> expansion = expansion(collection, req.tenant(), feedbackDocs, original.keySet(), settings.prfTerms());
                prf.attr("docs", feedbackDocs.size()).attr("terms", expansion.size());
                if (expansion.isEmpty()) return new Lexical(hits, List.of());
                List<Object> expanded = new ArrayList<>(fieldClauses(original, 1 - settings.prfWeight(), req));
                expanded.addAll(fieldClauses(QueryTerms.feedbackWeights(original, expansion, settings.prfWeight()), 1, req));
                List<JsonNode> second = lexicalSearch(collection, req, expanded, filter, n);
                prf.attr("hits", second.size());
                return new Lexical(scored(second, seen), expansion);
            }
        }
    }

    /** RM3 over the feedback chunks (the tenant's own hits, checked again), with the tenant's IDFs fetched in one go. */
    private List<ExpansionTerm> expansion(String collection, String tenant, List<JsonNode> feedbackDocs, Set<String> queryTerms, int max) {
        List<RelevanceModel.FeedbackDoc> docs = new ArrayList<>(feedbackDocs.size());
        for (JsonNode d : feedbackDocs) {
            if (!tenant.equals(d.path(TENANT).asText())) throw new IllegalStateException("tenant isolation violated");
            docs.add(RelevanceModel.FeedbackDoc.of(d.path("score").asDouble(), d.path(TITLE).asText(), strings(d.path(SECTION)),
                    d.path(BODY).asText(), this::terms));
        }
        DocFreqs df = docFreqs(collection, tenant, RelevanceModel.candidates(docs));
        return RelevanceModel.expansion(docs, t -> QueryTerms.bm25Idf(df.chunks(), df.of(t)), QueryTerms.bm25Idf(df.chunks(), 1), max,
                queryTerms, QueryTerms.MAX_QUERY_TERMS - queryTerms.size());
    }

    /** Each term's clause on the title and body fields (those of non-zero weight), boosted by its weight × the field's × {@code scale}. */
    private static List<Object> fieldClauses(Map<String, Double> terms, double scale, SearchRequest req) {
        List<Object> clauses = new ArrayList<>();
        double title = req.settings().titleWeight(), body = req.settings().bodyWeight();
        terms.forEach((t, w) -> {
            if (title > 0) clauses.add(boosted(term(TITLE_TERMS, t), w * scale * title));
            if (body > 0) clauses.add(boosted(term(BODY_TERMS, t), w * scale * body));
        });
        return clauses;
    }

    private static Object boosted(Map<String, Object> query, double boost) {
        return boost == 1 ? query : Map.of("boost", Map.of("query", query, "b", Double.toString(boost)));
    }

    private List<JsonNode> lexicalSearch(String collection, SearchRequest req, List<Object> clauses, Map<String, Object> filter, int n) {
        JsonNode reply = selectIn(collection, Map.of("query", Map.of("bool", Map.of("should", clauses)), "filter", List.of(filter), "limit", n,
                "sort", "score desc, " + DOC_ID + " asc, " + ORDINAL + " asc", "fields", ID + ",score," + CHUNK_FIELDS));
        return bestFirst(reply.path("response").path("docs"));
    }

    /**
     * The tenant's nearest chunks by cosine similarity, HNSW pre-filtered by the request's filters.
     * Solr's score for cosine is (1 + cos) / 2, the embedded index's for unit vectors.
     */
    private List<Scored> knn(String collection, SearchRequest req, Map<String, Object> filter, int n, Hits seen, Trace trace) {
        try (Span span = trace.span("knn")) {
            JsonNode reply = selectIn(collection, Map.of(
                    "query", Map.of("knn", Map.of("f", VECTOR, "topK", n, "query", vectorText(req.queryVector()))),
                    "filter", List.of(filter), "limit", n, "sort", "score desc, " + DOC_ID + " asc, " + ORDINAL + " asc",
                    "fields", ID + ",score," + CHUNK_FIELDS));
            List<Scored> out = scored(bestFirst(reply.path("response").path("docs")), seen);
            span.attr("hits", out.size());
            return out;
        }
    }

    /** Hits best first, equal scores in document id and chunk order (as the embedded index orders them, in Java's string order). */
    private static List<JsonNode> bestFirst(JsonNode docs) {
        List<JsonNode> out = new ArrayList<>();
        docs.forEach(out::add);
        out.sort(Comparator.comparingDouble((JsonNode d) -> (float) d.path("score").asDouble()).reversed()
                .thenComparing(d -> d.path(DOC_ID).asText()).thenComparingInt(d -> d.path(ORDINAL).asInt()));
        return out;
    }

    private static List<Scored> scored(List<JsonNode> docs, Hits seen) {
        List<Scored> out = new ArrayList<>(docs.size());
        for (JsonNode d : docs) out.add(new Scored(seen.number(d), (float) d.path("score").asDouble()));
        return out;
    }

    /** The stored vectors of the final hits, by Solr id. */
    private Map<String, float[]> vectors(String collection, String tenant, List<String> ids) {
        if (ids.isEmpty()) return Map.of();
        List<Object> byId = ids.stream().<Object>map(id -> term(ID, id)).toList();
        JsonNode docs = selectIn(collection, Map.of("query", Map.of("bool", Map.of("should", byId)), "filter", List.of(term(TENANT, tenant)),
                "limit", ids.size(), "fields", ID + "," + VECTOR)).path("response").path("docs");
        Map<String, float[]> out = new ConcurrentHashMap<>();
        for (JsonNode d : docs) out.put(d.path(ID).asText(), vector(d.path(VECTOR)));
        return out;
    }

    private static float[] vector(JsonNode v) {
        float[] vector = new float[v.size()];
        for (int i = 0; i < vector.length; i++) vector[i] = (float) v.get(i).asDouble();
        return vector;
    }

    /** The request's filters as one Solr filter: chunks of the tenant, and whatever the request narrows to. */
    private static Map<String, Object> filter(SearchRequest req) {
        List<Object> must = new ArrayList<>(List.of(term(KIND, CHUNK), term(TENANT, req.tenant())));
        SearchFilters f = req.filters();
        if (f.sourcePrefix() != null && !f.sourcePrefix().isEmpty()) must.add(Map.of("prefix", Map.of("f", SOURCE_KW, "query", f.sourcePrefix())));
        if (!f.docIds().isEmpty()) must.add(Map.of("bool", Map.of("should", f.docIds().stream().<Object>map(id -> term(DOC_ID, id)).toList())));
        if (f.sectionPrefix() != null && !f.sectionPrefix().isEmpty()) must.add(Map.of("prefix", Map.of("f", SECTION_KW, "query", f.sectionPrefix())));
        Map<String, Object> bool = new LinkedHashMap<>();
        bool.put("must", must);
        if (f.withoutFlagged()) bool.put("must_not", List.of(term(FLAGGED, FLAGGED_MARK)));
        return Map.of("bool", bool);
    }

    /** A term query on a field: the value goes to Solr as a JSON string, never parsed as query syntax. */
    private static Map<String, Object> term(String field, String value) {
        return Map.of("term", Map.of("f", field, "query", value));
    }

    private static String vectorText(float[] v) {
        StringBuilder sb = new StringBuilder(v.length * 12).append('[');
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.append(']').toString();
    }

    /** The tenant's chunk count (at least 1, as BM25's IDF takes it) and the document frequencies of some terms (absent: 0). */
    private record DocFreqs(long chunks, Map<String, Long> frequencies) {
        long of(String term) {
            return frequencies.getOrDefault(term, 0L);
        }
    }

    /**
     * Document frequencies of analysed terms in the tenant's chunks ({@code text} field), asked as
     * {@code docfreq} pseudo-fields whose terms travel as parameters (so no term is parsed as syntax),
     * with the number of chunks in the same reply. Counts include the tenant's replaced chunks Solr
     * has not yet merged away.
     */
    private DocFreqs docFreqs(String collection, String tenant, Collection<String> terms) {
        List<String> distinct = terms.stream().distinct().toList();
        Map<String, Long> out = new ConcurrentHashMap<>();
        long chunks = 0;
        for (int from = 0; from == 0 || from < distinct.size(); from += DOC_FREQ_BATCH) {
            List<String> batch = distinct.subList(from, Math.min(distinct.size(), from + DOC_FREQ_BATCH));
            Map<String, Object> params = new LinkedHashMap<>();
            StringBuilder fields = new StringBuilder(ID);
            for (int i = 0; i < batch.size(); i++) {
                params.put("t" + i, batch.get(i));
                fields.append(",df").append(i).append(":docfreq(").append(TEXT).append(",$t").append(i).append(')');
            }
            JsonNode response = selectIn(collection, Map.of("query", term(KIND, CHUNK), "filter", List.of(term(TENANT, tenant)), "limit", 1,
                    "fields", fields.toString(), "params", params)).path("response");
            chunks = response.path("numFound").asLong();
            JsonNode docs = response.path("docs");
            if (docs.isEmpty()) break;
            for (int i = 0; i < batch.size(); i++) {
                long df = docs.get(0).path("df" + i).asLong();
                if (df > 0) out.put(batch.get(i), df);
            }
        }
        return new DocFreqs(Math.max(1, chunks), out);
    }

    /** Where this index reads and writes {@code tenant}: its alias, or a pinned view's generation (no other tenant). */
    private String target(String tenant) {
        if (pin == null) return collection(tenant);
        if (!pin.tenant().equals(tenant)) throw new IllegalArgumentException("this view of the index holds tenant " + pin.tenant() + " only");
        return pin.collection();
    }

    /** A select on the tenant's collection; a tenant without a collection has nothing, so the reply is empty. */
    private JsonNode select(String tenant, Map<String, Object> request) {
        return selectIn(target(tenant), request);
    }

    /** A select on a collection or alias; one that does not exist has nothing, unless it is a generation a search resolved (then it was deleted under it). */
    private JsonNode selectIn(String collection, Map<String, Object> request) {
        Optional<JsonNode> reply = solr.postJsonUnlessMissing("/" + collection + "/select", Map.of(), request);
        if (reply.isEmpty() && existing.contains(collection)) throw new IndexException("Solr lost the collection " + collection);
        if (reply.isEmpty() && pin == null && GENERATION.matcher(collection).find()) throw new GenerationGone(collection);
        if (reply.isPresent()) checkModel(collection);
        return reply.orElseGet(JSON::createObjectNode);
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    /**
     * The tenant's alias, with its first generation created (one shard, Keel's configset) and active
     * when the tenant has none yet. Other Keels doing the same at the same time are fine: all create
     * generation 1 (Solr creates it once; the others wait for it to be active) and point the alias
     * at it, the same change however often it is made.
     */
    String ensureCollection(String tenant) {
        String collection = target(tenant);
        if (existing.contains(collection)) return collection;
        if (!aliases().containsKey(collection)) {
            String first = generationName(collection, 1);
            createGeneration(first);
            // Only while still missing: a reindex may have moved the alias on since.
            if (!aliases().containsKey(collection)) pointAlias(collection, first);
        }
        existing.add(collection);
        checkModel(collection);
        return collection;
    }

    /** Creates the physical collection {@code name} (one shard, Keel's configset) unless another Keel just did, and waits until it is active. */
    void createGeneration(String name) {
        try {
            solr.get("/admin/collections", Map.of("action", "CREATE", "name", name, "numShards", "1",
                    "replicationFactor", Integer.toString(config.replicas()), "collection.configName", configSet,
                    "waitForFinalState", "true", "wt", "json"));
        } catch (IndexException e) {
            if (!physicalCollections().contains(name)) throw e;
        }
        awaitActive(name);
    }

    /** Commits {@code collection} (or alias) on every replica and returns once their new searchers are open. */
    void commitCollection(String collection) {
        solr.get("/" + collection + "/update", Map.of("commit", "true", "waitSearcher", "true", "wt", "json"));
    }

    /** Points {@code alias} at {@code collection} in one step (Solr swaps it for every later request). */
    void pointAlias(String alias, String collection) {
        solr.get("/admin/collections", Map.of("action", "CREATEALIAS", "name", alias, "collections", collection, "wt", "json"));
    }

    /** Deletes a physical collection (a generation no alias names); gone already is fine. */
    void dropCollection(String name) {
        if (physicalCollections().contains(name)) solr.get("/admin/collections", Map.of("action", "DELETE", "name", name, "wt", "json"));
    }

    /** The cluster's aliases: name → the collection it points at. */
    Map<String, String> aliases() {
        JsonNode aliases = solr.get("/admin/collections", Map.of("action", "LISTALIASES", "wt", "json")).path("aliases");
        Map<String, String> out = new LinkedHashMap<>();
        aliases.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /** The generation numbers of {@code logical}'s physical collections, ascending. */
    List<Integer> generations(String logical) {
        List<Integer> out = new ArrayList<>();
        for (String name : physicalCollections()) {
            if (!name.startsWith(logical + "_g")) continue;
            var m = GENERATION.matcher(name);
            if (m.find() && name.length() == logical.length() + m.group().length()) out.add(Integer.parseInt(m.group(1)));
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** The physical collection of {@code logical}'s generation {@code n}. */
    static String generationName(String logical, int n) {
        return logical + "_g" + n;
    }

    /** The generation number in a physical collection's name. */
    static int generationOf(String physical) {
        var m = GENERATION.matcher(physical);
        if (!m.find()) throw new IndexException("the Solr collection " + physical + " is not a generation of a Keel tenant");
        return Integer.parseInt(m.group(1));
    }

    SolrHttp http() {
        return solr;
    }

    /**
     * Every committed document of the tenant, by id, with a stamp that changes whenever the
     * document is written again. Read with a cursor: a document present throughout is never missed.
     */
    Map<String, String> catalogue(String tenant) {
        Map<String, String> out = new java.util.HashMap<>();
        String cursor = "*";
        while (true) {
            JsonNode reply = select(tenant, Map.of("query", term(KIND, DOC), "filter", List.of(term(TENANT, tenant)), "limit", CHUNK_PAGE,
                    "sort", ID + " asc", "fields", DOC_ID + "," + VERSION + "," + INGESTED + "," + MODIFIED, "params", Map.of("cursorMark", cursor)));
            for (JsonNode d : reply.path("response").path("docs")) {
                out.put(d.path(DOC_ID).asText(), d.path(VERSION).asText() + "@" + d.path(INGESTED).asLong() + "@" + d.path(MODIFIED).asLong());
            }
            String next = reply.path("nextCursorMark").asText(cursor);
            if (next.equals(cursor)) return out;
            cursor = next;
        }
    }

    /**
     * Checks, once per collection and process, that the collection holds vectors of this Keel's
     * embedding model (its marker document says which; a collection without one gets it): results of
     * another model's vectors would be noise, as the embedded index refuses to open in that case.
     */
    void checkModel(String collection) {
        if (modelChecked.contains(collection)) return;
        JsonNode docs = solr.postJson("/" + collection + "/select", Map.of(), Map.of("query", term(ID, MODEL_MARKER), "fields", MODEL, "limit", 1))
                .path("response").path("docs");
        if (docs.isEmpty()) {
            solr.postJson("/" + collection + "/update", Map.of("wt", "json", "commit", "true"),
                    List.of(Map.of(ID, MODEL_MARKER, KIND, META_KIND, MODEL, embedModel)));
        } else if (!docs.get(0).path(MODEL).asText().equals(embedModel)) {
            throw new IndexException("the Solr collection " + collection + " was built with embedding model " + docs.get(0).path(MODEL).asText()
                    + " but this Keel embeds with " + embedModel + "; vectors of different models can't be mixed. Reindex: set"
                    + " index.solr.collection_prefix to a new name (or delete Keel's collections) and run 'keel ingest' on your documents again.");
        }
        modelChecked.add(collection);
    }

    /**
     * Waits (at most {@code index.solr.timeout_ms}) until every replica of the collection is active (one
     * look when it is; another Keel may still be creating it), so a first write does not meet a shard
     * without a leader.
     */
    private void awaitActive(String collection) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs());
        while (true) {
            JsonNode shards = solr.get("/admin/collections", Map.of("action", "CLUSTERSTATUS", "collection", collection, "wt", "json"))
                    .path("cluster").path("collections").path(collection).path("shards");
            boolean active = !shards.isEmpty();
            for (JsonNode shard : shards) {
                for (JsonNode replica : shard.path("replicas")) active &= "active".equals(replica.path("state").asText());
            }
            if (active) return;
            if (System.nanoTime() > until) {
                throw new IndexException("the Solr collection " + collection + " was not active within " + config.timeoutMs() + " ms");
            }
            LockSupport.parkNanos(ACTIVE_POLL_NANOS);
        }
    }

    /** Keel's tenants' logical collections (aliases, by prefix); a pinned view's generation only. */
    private List<String> keelCollections() {
        if (pin != null) return List.of(pin.collection());
        return aliases().keySet().stream().filter(this::isKeels).toList();
    }

    private boolean isKeels(String name) {
        return name.startsWith(config.collectionPrefix() + "_t_") || name.startsWith(config.collectionPrefix() + "_h_");
    }

    private List<String> physicalCollections() {
        JsonNode names = solr.get("/admin/collections", Map.of("action", "LIST", "wt", "json")).path("collections");
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * Refuses a cluster holding Keel collections of this prefix that are not generations: a Keel
     * from before aliases made them, and reading them beside aliases would serve some tenants from
     * collections no reindex can swap.
     */
    private void rejectUnaliased() {
        List<String> unaliased = physicalCollections().stream().filter(this::isKeels).filter(c -> !GENERATION.matcher(c).find()).sorted().toList();
        if (unaliased.isEmpty()) return;
        throw new IndexException("the Solr cluster has " + unaliased.size() + " Keel collection(s) without a generation suffix (" + String.join(", ",
                unaliased.subList(0, Math.min(3, unaliased.size()))) + (unaliased.size() > 3 ? ", …" : "") + "), made by a Keel from before"
                + " tenants were served through aliases of generations (<name>_g<N>); this Keel cannot serve them. Delete them, or set"
                + " index.solr.collection_prefix to a new name, and run 'keel ingest' on your documents again.");
    }

    /** Deletes every alias and collection of this index's prefix (a throw-away evaluation's index, when it is done). */
    public void deleteCollections() {
        for (String a : keelCollections()) solr.get("/admin/collections", Map.of("action", "DELETEALIAS", "name", a, "wt", "json"));
        for (String c : physicalCollections()) {
            if (isKeels(c)) solr.get("/admin/collections", Map.of("action", "DELETE", "name", c, "wt", "json"));
        }
        existing.clear();
        modelChecked.clear();
        staged.clear();
    }

    private List<String> liveNodes() {
        JsonNode live = solr.get("/admin/collections", Map.of("action", "CLUSTERSTATUS", "wt", "json")).path("cluster").path("live_nodes");
        List<String> out = new ArrayList<>();
        live.forEach(n -> out.add(n.asText()));
        if (out.isEmpty()) throw new IndexException("SolrCloud at " + String.join(", ", solr.nodeUrls()) + " reports no live node");
        return out;
    }

    /** Uploads Keel's configset (schema with the embedder's dimension) unless the cluster has it. */
    private void uploadConfigSet(int dimension) {
        JsonNode sets = solr.get("/admin/configs", Map.of("action", "LIST", "wt", "json")).path("configSets");
        for (JsonNode s : sets) if (s.asText().equals(configSet)) return;
        try {
            solr.postBytes("/admin/configs", Map.of("action", "UPLOAD", "name", configSet, "wt", "json"), "application/octet-stream",
                    configSetZip(dimension));
        } catch (IndexException e) {
            if (!e.getMessage().contains("already exists")) throw e;
        }
    }

    private static byte[] configSetZip(int dimension) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : CONFIGSET_FILES) {
                try (InputStream in = SolrChunkIndex.class.getResourceAsStream("/solr-configset/" + name)) {
                    if (in == null) throw new IllegalStateException("configset file " + name + " is missing from Keel's jar");
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    if (name.equals("schema.xml")) text = text.replace("DIMENSION", Integer.toString(dimension));
                    zip.putNextEntry(new ZipEntry(name));
                    zip.write(text.getBytes(StandardCharsets.UTF_8));
                    zip.closeEntry();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Solr ids: a catalogue entry's and its chunks', distinct for any document id (the ordinal ends at the first ':'). */
    private static String docKey(String docId) {
        return "d:" + docId;
    }

    private static String chunkKey(String docId, int ordinal) {
        return "c:" + ordinal + ":" + docId;
    }

    private static Map<String, Object> docRecordDocument(DocumentRecord d) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(ID, docKey(d.docId()));
        doc.put(KIND, DOC);
        doc.put(TENANT, d.tenant());
        doc.put(DOC_ID, d.docId());
        doc.put(VERSION, d.version());
        doc.put(SOURCE, d.source());
        doc.put(SOURCE_KW, SearchFilters.keyword(d.source()));
        doc.put(TITLE, d.title());
        doc.put(CONTENT_TYPE, d.contentType());
        doc.put(BYTES, d.bytes());
        doc.put(CHUNKS, d.chunkCount());
        doc.put(INGESTED, d.ingestedAtMillis());
        doc.put(MODIFIED, d.modifiedAtMillis());
        if (d.scanned()) doc.put(FLAGGED_CHUNKS, d.flaggedChunks());
        try {
            doc.put(META, JSON.writeValueAsString(d.metadata()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata is not serialisable", e);
        }
        return doc;
    }

    private static Map<String, Object> chunkDocument(ChunkRecord c) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(ID, chunkKey(c.docId(), c.ordinal()));
        doc.put(KIND, CHUNK);
        doc.put(TENANT, c.tenant());
        doc.put(DOC_ID, c.docId());
        doc.put(VERSION, c.docVersion());
        doc.put(ORDINAL, c.ordinal());
        doc.put(SOURCE, c.source());
        doc.put(SOURCE_KW, SearchFilters.keyword(c.source()));
        doc.put(TITLE, c.title());
        if (!c.sectionPath().isEmpty()) doc.put(SECTION, c.sectionPath());
        doc.put(SECTION_KW, SearchFilters.keyword(c.section()));
        doc.put(BODY, c.body());
        doc.put(TEXT, c.indexText());
        doc.put(TITLE_TERMS, ChunkRecord.titleText(c.title(), c.sectionPath()));
        doc.put(BODY_TERMS, c.body());
        doc.put(MODEL, c.embedModel());
        doc.put(INGESTED, c.ingestedAtMillis());
        List<Float> vector = new ArrayList<>(c.vector().length);
        for (float f : c.vector()) vector.add(f);
        doc.put(VECTOR, vector);
        if (c.injection().scanned()) doc.put(INJECTION_SCORE, c.injection().score());
        if (c.injection().flagged()) doc.put(FLAGGED, FLAGGED_MARK);
        return doc;
    }

    private static ChunkRecord toChunk(JsonNode d, float[] vector) {
        InjectionFlag injection = d.has(INJECTION_SCORE)
                ? new InjectionFlag(true, d.path(INJECTION_SCORE).asDouble(), FLAGGED_MARK.equals(d.path(FLAGGED).asText()))
                : InjectionFlag.NOT_SCANNED;
        return new ChunkRecord(d.path(TENANT).asText(), d.path(DOC_ID).asText(), d.path(VERSION).asText(), d.path(ORDINAL).asInt(),
                d.path(SOURCE).asText(), d.path(TITLE).asText(), strings(d.path(SECTION)), d.path(BODY).asText(), null, d.path(MODEL).asText(),
                d.path(INGESTED).asLong(), vector, injection);
    }

    private static DocumentRecord toDocument(JsonNode d) {
        Map<String, String> meta;
        try {
            meta = JSON.readValue(d.path(META).asText("{}"), new TypeReference<Map<String, String>>() {});
        } catch (JsonProcessingException e) {
            meta = Map.of();
        }
        return new DocumentRecord(d.path(TENANT).asText(), d.path(DOC_ID).asText(), d.path(VERSION).asText(), d.path(SOURCE).asText(),
                d.path(TITLE).asText(), d.path(CONTENT_TYPE).asText(), d.path(BYTES).asLong(), d.path(CHUNKS).asInt(), d.path(INGESTED).asLong(),
                d.path(MODIFIED).asLong(), meta, d.has(FLAGGED_CHUNKS) ? d.path(FLAGGED_CHUNKS).asInt() : DocumentRecord.NOT_SCANNED);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(s -> out.add(s.asText()));
        return out;
    }

    private static <T> RankedList ranked(String name, List<T> list, ToIntFunction<T> doc, ToDoubleFunction<T> score, Hits seen) {
        List<RankedList.Entry> entries = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            entries.add(new RankedList.Entry(i + 1, chunkId(seen.doc(doc.applyAsInt(list.get(i)))), score.applyAsDouble(list.get(i))));
        }
        return new RankedList(name, entries);
    }

    private static String chunkId(JsonNode d) {
        return d.path(DOC_ID).asText() + "#" + d.path(ORDINAL).asInt();
    }

    @Override
    public void close() {
        parallel.shutdown();
        analyzer.close();
        if (pin == null) solr.close();
    }
}
