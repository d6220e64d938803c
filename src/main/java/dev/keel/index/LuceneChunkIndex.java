package dev.keel.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermStatistics;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;

/**
 * The embedded index: one Lucene directory holding, per document, a catalogue entry and its chunks
 * as one block, so replacing or deleting a document is atomic. BM25 runs over an English-analysed
 * field; vectors live in an int8-quantised HNSW graph. The embed model id is stored in the commit
 * and checked on open: an index built with another model refuses to open.
 *
 * <p>All tenants share the directory, but a search's scores are the tenant's own: BM25 uses the
 * tenant's statistics ({@link TenantStatistics}), vector hits are rescored with their float vectors,
 * and equal scores are ordered by document id and chunk, not by Lucene's internal order. A query
 * keeps at most {@link #MAX_QUERY_TERMS} distinct terms, so no text makes Lucene refuse it.
 */
public final class LuceneChunkIndex implements ChunkIndex {
    private static final String KIND = "kind", TENANT = "tenant", DOC_ID = "doc_id", DOC_KEY = "doc_key", VERSION = "version",
            ORDINAL = "ordinal", SOURCE = "source", SOURCE_KW = "source_kw", TITLE = "title", SECTION = "section",
            SECTION_KW = "section_kw", BODY = "body", TEXT = "text", VECTOR = "vector", MODEL = "model", INGESTED = "ingested_at",
            MODIFIED = "modified_at", CONTENT_TYPE = "content_type", BYTES = "bytes", CHUNKS = "chunk_count", META = "metadata";
    /**
     * Chunk fields added after indexes already existed, under new names (Lucene fixes a field's
     * structure once per index): exact token count of {@code text}, and the doc id as doc values.
     */
    private static final String TEXT_LENGTH = "text_length", DOC_ID_ORDER = "doc_id_order";
    private static final String CHUNK = "chunk", DOC = "doc";
    private static final String MODEL_KEY = "keel.embed_model";
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Distinct terms a BM25 query keeps: the rarest in the tenant's chunks (the most informative).
     * Lucene refuses queries of over 1,024 clauses, and each clause costs a postings walk.
     */
    static final int MAX_QUERY_TERMS = 256;
    /**
     * Characters of a source or section path indexed for filtering (the stored value stays whole).
     * Lucene refuses a term over 32,766 UTF-8 bytes; prefix filters are at most
     * {@link SearchFilters#MAX_PREFIX_CHARS} long, so matching them against this much is exact.
     */
    private static final int MAX_KEYWORD_CHARS = 1_024;

    private final FSDirectory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Analyzer analyzer = new EnglishAnalyzer();
    private final TenantStatistics statistics = new TenantStatistics(TENANT, TEXT, TEXT_LENGTH);
    private final String embedModel;
    private final ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor();

    public LuceneChunkIndex(Path dir, String embedModel, int dimension) {
        this.embedModel = embedModel;
        try {
            Files.createDirectories(dir);
            directory = FSDirectory.open(dir);
            if (DirectoryReader.indexExists(directory)) {
                try (DirectoryReader r = DirectoryReader.open(directory)) {
                    String built = r.getIndexCommit().getUserData().get(MODEL_KEY);
                    if (built != null && !built.equals(embedModel)) {
                        throw new IndexException("the index in " + dir + " was built with embedding model " + built
                                + " but this Keel embeds with " + embedModel
                                + "; vectors of different models can't be mixed. Reindex: move " + dir
                                + " away and run 'keel ingest' on your documents again.");
                    }
                }
            }
            IndexWriterConfig cfg = new IndexWriterConfig(analyzer);
            cfg.setCodec(new Lucene912Codec() {
                @Override
                public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                    return new Lucene99HnswScalarQuantizedVectorsFormat();
                }
            });
            cfg.setRAMBufferSizeMB(64);
            writer = new IndexWriter(directory, cfg);
            writer.setLiveCommitData(Map.of(MODEL_KEY, embedModel, "keel.dimension", Integer.toString(dimension)).entrySet());
            searchers = new SearcherManager(writer, null);
        } catch (org.apache.lucene.store.LockObtainFailedException e) {
            throw new IndexException("the index in " + dir + " is in use by another Keel process (a running keel serve or demo: use its HTTP"
                    + " API, or stop it), or use another --data directory", e);
        } catch (IOException e) {
            throw new IndexException("cannot open the index in " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String embedModel() {
        return embedModel;
    }

    @Override
    public Optional<DocumentRecord> document(String tenant, String docId) {
        return withSearcher(s -> {
            TopDocs top = s.search(docRecordQuery(tenant, docId), 1);
            if (top.scoreDocs.length == 0) return Optional.empty();
            return Optional.of(toDocument(s.storedFields().document(top.scoreDocs[0].doc)));
        });
    }

    @Override
    public List<DocumentRecord> documents(String tenant, int offset, int limit) {
        return withSearcher(s -> {
            Query q = new BooleanQuery.Builder()
                    .add(new TermQuery(new Term(KIND, DOC)), BooleanClause.Occur.FILTER)
                    .add(new TermQuery(new Term(TENANT, tenant)), BooleanClause.Occur.FILTER).build();
            int n = Math.max(1, offset + limit);
            TopDocs top = s.search(q, n, new Sort(new SortField(SOURCE_KW, SortField.Type.STRING)));
            List<DocumentRecord> out = new ArrayList<>();
            StoredFields sf = s.storedFields();
            for (int i = offset; i < top.scoreDocs.length; i++) out.add(toDocument(sf.document(top.scoreDocs[i].doc)));
            return out;
        });
    }

    @Override
    public List<ChunkRecord> chunks(String tenant, String docId) {
        return withSearcher(s -> {
            Query q = new BooleanQuery.Builder()
                    .add(new TermQuery(new Term(KIND, CHUNK)), BooleanClause.Occur.FILTER)
                    .add(new TermQuery(new Term(DOC_KEY, docKey(tenant, docId))), BooleanClause.Occur.FILTER).build();
            TopDocs top = s.search(q, Integer.MAX_VALUE, new Sort(new SortField(ORDINAL, SortField.Type.INT)));
            List<ChunkRecord> out = new ArrayList<>();
            StoredFields sf = s.storedFields();
            for (ScoreDoc d : top.scoreDocs) out.add(toChunk(sf.document(d.doc)));
            return out;
        });
    }

    @Override
    public void replace(DocumentRecord doc, List<ChunkRecord> chunks) {
        List<Document> block = new ArrayList<>(chunks.size() + 1);
        block.add(docRecordDocument(doc));
        for (ChunkRecord c : chunks) {
            if (!c.tenant().equals(doc.tenant()) || !c.docId().equals(doc.docId())) {
                throw new IllegalArgumentException("chunk " + c.chunkId() + " does not belong to document " + doc.docId());
            }
            if (!c.embedModel().equals(embedModel)) {
                throw new IndexException("chunk embedded with " + c.embedModel() + " cannot enter an index of " + embedModel);
            }
            block.add(chunkDocument(c));
        }
        try {
            writer.updateDocuments(new Term(DOC_KEY, docKey(doc.tenant(), doc.docId())), block);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean delete(String tenant, String docId) {
        if (document(tenant, docId).isEmpty()) return false;
        try {
            writer.deleteDocuments(new Term(DOC_KEY, docKey(tenant, docId)));
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void commit() {
        try {
            writer.commit();
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, Double> idf(String tenant, Collection<String> terms) {
        return withSearcher(s -> {
            TenantStatistics.TenantSearcher own = statistics.searcher(s.getIndexReader(), tenant);
            long n = Math.max(1, own.counts().docCount());
            Map<String, Double> out = new HashMap<>();
            for (String t : terms) {
                long df = own.term(new BytesRef(t)).map(TermStatistics::docFreq).orElse(0L);
                out.put(t, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
            }
            return out;
        });
    }

    @Override
    public long chunkCount() {
        return withSearcher(s -> (long) s.count(new TermQuery(new Term(KIND, CHUNK))));
    }

    @Override
    public SearchResult search(SearchRequest req, Trace trace) {
        return withSearcher(s -> {
            Query filter = filterQuery(req);
            int n = Math.max(req.settings().candidates(), req.topK());
            CompletableFuture<List<Scored>> bm25 = req.mode() == SearchMode.VECTOR ? CompletableFuture.completedFuture(List.of())
                    : CompletableFuture.supplyAsync(() -> bm25(s, req, filter, n, trace), parallel);
            CompletableFuture<List<Scored>> knn = req.mode() == SearchMode.BM25 ? CompletableFuture.completedFuture(List.of())
                    : CompletableFuture.supplyAsync(() -> knn(s, req.queryVector(), filter, n, trace), parallel);
            List<Scored> lexical = bm25.join();
            List<Scored> semantic = knn.join();

            List<Fusion.Fused> fused;
            try (Span span = trace.span("fuse")) {
                fused = switch (req.mode()) {
                    case BM25 -> Fusion.single(lexical, true);
                    case VECTOR -> Fusion.single(semantic, false);
                    case HYBRID -> req.settings().fusion() == dev.keel.config.SearchConfig.Fusion.RRF
                            ? Fusion.rrf(lexical, semantic, req.settings().rrfK())
                            : Fusion.weighted(lexical, semantic, req.settings().alpha());
                };
                span.attr("fusion", req.mode() == SearchMode.HYBRID ? req.settings().fusion().name().toLowerCase() : "none")
                        .attr("candidates", fused.size());
            }
            List<Fusion.Fused> top = fused.subList(0, Math.min(req.topK(), fused.size()));
            StoredFields sf = s.storedFields();
            List<SearchHit> hits = new ArrayList<>(top.size());
            Map<Integer, String> ids = new HashMap<>();
            Map<Integer, float[]> vectors = vectors(s, top.stream().map(Fusion.Fused::doc).toList());
            for (Fusion.Fused f : top) {
                ChunkRecord c = toChunk(sf.document(f.doc())).withVector(vectors.get(f.doc()));
                if (!c.tenant().equals(req.tenant())) throw new IllegalStateException("tenant isolation violated");
                ids.put(f.doc(), c.chunkId());
                hits.add(new SearchHit(c, f.score(), f.bm25Rank(), f.bm25Score(), f.vectorRank(), f.vectorScore()));
            }
            List<RankedList> debug = List.of();
            if (req.debug()) {
                debug = List.of(
                        ranked("bm25", lexical, s, ids),
                        ranked("vector", semantic, s, ids),
                        new RankedList("fused", rankedEntries(fused.stream().limit(n).toList(), s, ids)),
                        new RankedList("final", rankedEntries(top, s, ids)));
            }
            return new SearchResult(hits, debug);
        });
    }

    /** BM25 over the tenant's chunks, scored with the tenant's own statistics. */
    private List<Scored> bm25(IndexSearcher s, SearchRequest req, Query filter, int n, Trace trace) {
        try (Span span = trace.span("bm25")) {
            TenantStatistics.TenantSearcher own = statistics.searcher(s.getIndexReader(), req.tenant());
            Query text = lexicalQuery(own, req.query(), span);
            if (text == null) {
                span.attr("hits", 0).attr("note", "no query term occurs in the tenant's documents");
                return List.of();
            }
            Query q = new BooleanQuery.Builder().add(text, BooleanClause.Occur.MUST).add(filter, BooleanClause.Occur.FILTER).build();
            List<Scored> out = bestFirst(s, scored(own.search(q, n)));
            span.attr("hits", out.size());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The query's distinct terms that occur in the tenant's chunks, at most {@link #MAX_QUERY_TERMS}
     * of them (the rarest; ties by term, so the choice is stable), each boosted by how often the
     * query repeats it; null when none is left. Terms no chunk of the tenant contains could match
     * nothing, so dropping them changes no score.
     */
    private Query lexicalQuery(TenantStatistics.TenantSearcher own, String query, Span span) {
        record Candidate(String term, int occurrences, long docFreq) {}
        Map<String, Integer> occurrences = new LinkedHashMap<>();
        for (String t : terms(query)) occurrences.merge(t, 1, Integer::sum);
        List<Candidate> present = new ArrayList<>();
        occurrences.forEach((t, count) -> own.term(new BytesRef(t)).ifPresent(st -> present.add(new Candidate(t, count, st.docFreq()))));
        present.sort(Comparator.comparingLong(Candidate::docFreq).thenComparing(Candidate::term));
        List<Candidate> kept = present.subList(0, Math.min(MAX_QUERY_TERMS, present.size()));
        span.attr("query_terms", occurrences.size()).attr("terms_used", kept.size());
        if (kept.isEmpty()) return null;
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (Candidate c : kept) {
            Query term = new TermQuery(new Term(TEXT, c.term()));
            b.add(c.occurrences() == 1 ? term : new BoostQuery(term, c.occurrences()), BooleanClause.Occur.SHOULD);
        }
        return b.build();
    }

    @Override
    public List<String> terms(String text) {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream(TEXT, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) out.add(term.toString());
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * The tenant's nearest chunks, scored exactly. The HNSW search scores with int8-quantised vectors
     * whose scale Lucene derives from all the vectors of a segment, other tenants' included; so its
     * hits are rescored with their stored float vectors (Lucene's dot-product score, (1 + cos) / 2).
     */
    private List<Scored> knn(IndexSearcher s, float[] vector, Query filter, int n, Trace trace) {
        try (Span span = trace.span("knn")) {
            List<Scored> found = scored(s.search(new KnnFloatVectorQuery(VECTOR, vector, n, filter), n));
            Map<Integer, float[]> stored = vectors(s, found.stream().map(Scored::doc).toList());
            List<Scored> exact = new ArrayList<>(found.size());
            for (Scored f : found) exact.add(new Scored(f.doc(), VectorSimilarityFunction.DOT_PRODUCT.compare(vector, stored.get(f.doc()))));
            List<Scored> out = bestFirst(s, exact);
            span.attr("hits", out.size());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Scored> scored(TopDocs top) {
        List<Scored> out = new ArrayList<>(top.scoreDocs.length);
        for (ScoreDoc d : top.scoreDocs) out.add(new Scored(d.doc, d.score));
        return out;
    }

    /**
     * Hits best first, equal scores in document id and chunk order. Lucene orders ties by its internal
     * document numbers, which merges reshuffle — and any tenant's writes trigger merges.
     */
    private static List<Scored> bestFirst(IndexSearcher s, List<Scored> hits) throws IOException {
        List<Scored> out = new ArrayList<>(hits);
        out.sort(Comparator.comparingDouble(Scored::score).reversed());
        for (int from = 0, to; from < out.size(); from = to) {
            to = from + 1;
            while (to < out.size() && out.get(to).score() == out.get(from).score()) to++;
            if (to - from < 2) continue;
            Map<Integer, ChunkKey> keys = chunkKeys(s, out.subList(from, to).stream().map(Scored::doc).toList());
            out.subList(from, to).sort(Comparator.comparing(tied -> keys.get(tied.doc())));
        }
        return out;
    }

    /**
     * Document id and ordinal of chunks, from doc values (a stored-fields read decompresses a block
     * of documents); from stored fields for chunks indexed before their doc id had doc values.
     */
    private static Map<Integer, ChunkKey> chunkKeys(IndexSearcher s, List<Integer> docs) throws IOException {
        Map<Integer, ChunkKey> out = new HashMap<>();
        StoredFields stored = null;
        for (LeafDocs leafDocs : byLeaf(s, docs)) {
            LeafReader r = leafDocs.leaf().reader();
            SortedDocValues ids = r.getSortedDocValues(DOC_ID_ORDER);
            NumericDocValues ordinals = r.getNumericDocValues(ORDINAL);
            for (int doc : leafDocs.docs()) {
                int local = doc - leafDocs.leaf().docBase;
                if (ids != null && ordinals != null && ids.advanceExact(local) && ordinals.advanceExact(local)) {
                    out.put(doc, new ChunkKey(ids.lookupOrd(ids.ordValue()).utf8ToString(), (int) ordinals.longValue()));
                } else {
                    if (stored == null) stored = s.storedFields();
                    Document d = stored.document(doc, Set.of(DOC_ID, ORDINAL));
                    out.put(doc, new ChunkKey(d.get(DOC_ID), d.getField(ORDINAL).numericValue().intValue()));
                }
            }
        }
        return out;
    }

    /** Top-level doc numbers grouped by the segment holding them, each group in increasing order (as doc values iterate). */
    private record LeafDocs(LeafReaderContext leaf, List<Integer> docs) {}

    private static List<LeafDocs> byLeaf(IndexSearcher s, List<Integer> docs) {
        List<LeafReaderContext> leaves = s.getIndexReader().leaves();
        List<LeafDocs> out = new ArrayList<>();
        for (int doc : docs.stream().sorted().toList()) {
            LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
            if (out.isEmpty() || out.get(out.size() - 1).leaf() != leaf) out.add(new LeafDocs(leaf, new ArrayList<>()));
            out.get(out.size() - 1).docs().add(doc);
        }
        return out;
    }

    /** A chunk's identity within its tenant, ordered by document id, then ordinal. */
    private record ChunkKey(String docId, int ordinal) implements Comparable<ChunkKey> {
        @Override
        public int compareTo(ChunkKey o) {
            int byDoc = docId.compareTo(o.docId);
            return byDoc != 0 ? byDoc : Integer.compare(ordinal, o.ordinal);
        }
    }

    private Query filterQuery(SearchRequest req) {
        BooleanQuery.Builder b = new BooleanQuery.Builder()
                .add(new TermQuery(new Term(KIND, CHUNK)), BooleanClause.Occur.FILTER)
                .add(new TermQuery(new Term(TENANT, req.tenant())), BooleanClause.Occur.FILTER);
        SearchFilters f = req.filters();
        if (f.sourcePrefix() != null && !f.sourcePrefix().isEmpty()) {
            b.add(new PrefixQuery(new Term(SOURCE_KW, f.sourcePrefix())), BooleanClause.Occur.FILTER);
        }
        if (!f.docIds().isEmpty()) {
            List<BytesRef> keys = f.docIds().stream().map(id -> new BytesRef(docKey(req.tenant(), id))).toList();
            b.add(new TermInSetQuery(DOC_KEY, keys), BooleanClause.Occur.FILTER);
        }
        if (f.sectionPrefix() != null && !f.sectionPrefix().isEmpty()) {
            b.add(new PrefixQuery(new Term(SECTION_KW, f.sectionPrefix())), BooleanClause.Occur.FILTER);
        }
        return b.build();
    }

    /** The stored float vectors (not their quantised form) of chunks. */
    private Map<Integer, float[]> vectors(IndexSearcher s, List<Integer> docs) throws IOException {
        Map<Integer, float[]> out = new HashMap<>();
        for (LeafDocs leafDocs : byLeaf(s, docs)) {
            FloatVectorValues values = leafDocs.leaf().reader().getFloatVectorValues(VECTOR);
            if (values == null) continue;
            for (int doc : leafDocs.docs()) {
                int local = doc - leafDocs.leaf().docBase;
                if (values.advance(local) == local) {
                    float[] v = values.vectorValue();
                    out.put(doc, Arrays.copyOf(v, v.length));
                }
            }
        }
        return out;
    }

    private RankedList ranked(String name, List<Scored> list, IndexSearcher s, Map<Integer, String> ids) throws IOException {
        List<RankedList.Entry> entries = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) entries.add(new RankedList.Entry(i + 1, chunkId(s, list.get(i).doc(), ids), list.get(i).score()));
        return new RankedList(name, entries);
    }

    private List<RankedList.Entry> rankedEntries(List<Fusion.Fused> list, IndexSearcher s, Map<Integer, String> ids) throws IOException {
        List<RankedList.Entry> entries = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) entries.add(new RankedList.Entry(i + 1, chunkId(s, list.get(i).doc(), ids), list.get(i).score()));
        return entries;
    }

    private static String chunkId(IndexSearcher s, int doc, Map<Integer, String> ids) throws IOException {
        String id = ids.get(doc);
        if (id != null) return id;
        Document d = s.storedFields().document(doc, Set.of(DOC_ID, ORDINAL));
        id = d.get(DOC_ID) + "#" + d.getField(ORDINAL).numericValue().intValue();
        ids.put(doc, id);
        return id;
    }

    private static Query docRecordQuery(String tenant, String docId) {
        return new BooleanQuery.Builder()
                .add(new TermQuery(new Term(KIND, DOC)), BooleanClause.Occur.FILTER)
                .add(new TermQuery(new Term(DOC_KEY, docKey(tenant, docId))), BooleanClause.Occur.FILTER).build();
    }

    private static String docKey(String tenant, String docId) {
        return tenant + '\u001f' + docId;
    }

    private static Document docRecordDocument(DocumentRecord d) {
        Document doc = new Document();
        doc.add(new StringField(KIND, DOC, Field.Store.NO));
        doc.add(new StringField(TENANT, d.tenant(), Field.Store.YES));
        doc.add(new StringField(DOC_ID, d.docId(), Field.Store.YES));
        doc.add(new StringField(DOC_KEY, docKey(d.tenant(), d.docId()), Field.Store.NO));
        doc.add(new StoredField(VERSION, d.version()));
        doc.add(new StoredField(SOURCE, d.source()));
        doc.add(new StringField(SOURCE_KW, keyword(d.source()), Field.Store.NO));
        doc.add(new SortedDocValuesField(SOURCE_KW, new BytesRef(keyword(d.source()))));
        doc.add(new StoredField(TITLE, d.title()));
        doc.add(new StoredField(CONTENT_TYPE, d.contentType()));
        doc.add(new StoredField(BYTES, d.bytes()));
        doc.add(new StoredField(CHUNKS, d.chunkCount()));
        doc.add(new StoredField(INGESTED, d.ingestedAtMillis()));
        doc.add(new StoredField(MODIFIED, d.modifiedAtMillis()));
        try {
            doc.add(new StoredField(META, JSON.writeValueAsString(d.metadata())));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata is not serialisable", e);
        }
        return doc;
    }

    private Document chunkDocument(ChunkRecord c) {
        Document doc = new Document();
        doc.add(new StringField(KIND, CHUNK, Field.Store.NO));
        doc.add(new StringField(TENANT, c.tenant(), Field.Store.YES));
        doc.add(new StringField(DOC_ID, c.docId(), Field.Store.YES));
        doc.add(new SortedDocValuesField(DOC_ID_ORDER, new BytesRef(c.docId())));
        doc.add(new StringField(DOC_KEY, docKey(c.tenant(), c.docId()), Field.Store.NO));
        doc.add(new StoredField(VERSION, c.docVersion()));
        doc.add(new StoredField(ORDINAL, c.ordinal()));
        doc.add(new IntPoint(ORDINAL, c.ordinal()));
        doc.add(new NumericDocValuesField(ORDINAL, c.ordinal()));
        doc.add(new StoredField(SOURCE, c.source()));
        doc.add(new StringField(SOURCE_KW, keyword(c.source()), Field.Store.NO));
        doc.add(new SortedDocValuesField(SOURCE_KW, new BytesRef(keyword(c.source()))));
        doc.add(new StoredField(TITLE, c.title()));
        for (String s : c.sectionPath()) doc.add(new StoredField(SECTION, s));
        doc.add(new StringField(SECTION_KW, keyword(c.section()), Field.Store.NO));
        doc.add(new StoredField(BODY, c.body()));
        doc.add(new TextField(TEXT, c.indexText(), Field.Store.NO));
        doc.add(new NumericDocValuesField(TEXT_LENGTH, terms(c.indexText()).size()));
        doc.add(new StoredField(MODEL, c.embedModel()));
        doc.add(new StoredField(INGESTED, c.ingestedAtMillis()));
        doc.add(new KnnFloatVectorField(VECTOR, c.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        return doc;
    }

    /** The first {@link #MAX_KEYWORD_CHARS} characters, never ending inside a surrogate pair. */
    private static String keyword(String value) {
        if (value.length() <= MAX_KEYWORD_CHARS) return value;
        int end = Character.isHighSurrogate(value.charAt(MAX_KEYWORD_CHARS - 1)) ? MAX_KEYWORD_CHARS - 1 : MAX_KEYWORD_CHARS;
        return value.substring(0, end);
    }

    private static ChunkRecord toChunk(Document d) {
        return new ChunkRecord(d.get(TENANT), d.get(DOC_ID), d.get(VERSION), d.getField(ORDINAL).numericValue().intValue(),
                d.get(SOURCE), d.get(TITLE), List.of(d.getValues(SECTION)), d.get(BODY), null, d.get(MODEL),
                d.getField(INGESTED).numericValue().longValue(), null);
    }

    private static DocumentRecord toDocument(Document d) {
        Map<String, String> meta;
        try {
            meta = JSON.readValue(d.get(META), new TypeReference<Map<String, String>>() {});
        } catch (JsonProcessingException e) {
            meta = Map.of();
        }
        return new DocumentRecord(d.get(TENANT), d.get(DOC_ID), d.get(VERSION), d.get(SOURCE), d.get(TITLE), d.get(CONTENT_TYPE),
                d.getField(BYTES).numericValue().longValue(), d.getField(CHUNKS).numericValue().intValue(),
                d.getField(INGESTED).numericValue().longValue(), d.getField(MODIFIED).numericValue().longValue(), meta);
    }

    private <T> T withSearcher(SearcherWork<T> work) {
        try {
            IndexSearcher s = searchers.acquire();
            try {
                return work.apply(s);
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            searchers.close();
            writer.close();
            directory.close();
            analyzer.close();
            parallel.shutdown();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FunctionalInterface
    private interface SearcherWork<T> {
        T apply(IndexSearcher s) throws IOException;
    }

    record Scored(int doc, float score) {}
}
