package dev.keel.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.SearchConfig;
import dev.keel.index.Fusion.Scored;
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
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded index: one Lucene directory holding, per document, a catalogue entry and its chunks
 * as one block, so replacing or deleting a document is atomic. BM25 runs over two English-analysed
 * fields, a chunk's title (document title and section path) and its body, weighted and added, with
 * optional RM3 pseudo-relevance feedback from the tenant's own top hits; vectors live in an
 * int8-quantised HNSW graph. The embed model id is stored in the commit and checked on open: an
 * index built with another model refuses to open. So is the index format: an index of an older
 * format is rewritten from its stored chunks and vectors on open (no re-embedding), in one commit,
 * so a crash during it leaves the old index to be rewritten at the next open.
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
    /** The BM25 fields of format 2 (the combined {@code text} field stays for {@link #idf} and term selection), with their token counts. */
    private static final String TITLE_TERMS = "title_terms", BODY_TERMS = "body_terms",
            TITLE_TERMS_LENGTH = "title_terms_length", BODY_TERMS_LENGTH = "body_terms_length";
    /**
     * What the injection scan found, stored only for scanned chunks and documents (older ones lack the
     * fields and read as not scanned): a chunk's score, the indexed mark of a flagged chunk (for the
     * exclude filter), and a document's count of flagged chunks.
     */
    private static final String INJECTION_SCORE = "injection_score", FLAGGED = "injection_flagged", FLAGGED_CHUNKS = "flagged_chunks";
    private static final String FLAGGED_MARK = "1";
    private static final String CHUNK = "chunk", DOC = "doc";
    private static final String MODEL_KEY = "keel.embed_model", FORMAT_KEY = "keel.index_format";
    /**
     * The index format this code writes and reads: 1 (no marker) had one BM25 field; 2 adds the title
     * and body fields. Raise it whenever chunks need fields that older chunks lack.
     */
    static final int FORMAT = 2;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(LuceneChunkIndex.class);
    /** Distinct terms a BM25 query keeps (see {@link QueryTerms#MAX_QUERY_TERMS}). */
    static final int MAX_QUERY_TERMS = QueryTerms.MAX_QUERY_TERMS;

    private final FSDirectory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Analyzer analyzer = new EnglishAnalyzer();
    private final TenantStatistics statistics = new TenantStatistics(TENANT,
            Map.of(TEXT, TEXT_LENGTH, TITLE_TERMS, TITLE_TERMS_LENGTH, BODY_TERMS, BODY_TERMS_LENGTH));
    private final String embedModel;
    private final ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor();

    public LuceneChunkIndex(Path dir, String embedModel, int dimension) {
        this.embedModel = embedModel;
        try {
            Files.createDirectories(dir);
            directory = FSDirectory.open(dir);
            int format = FORMAT;
            if (DirectoryReader.indexExists(directory)) {
                try (DirectoryReader r = DirectoryReader.open(directory)) {
                    Map<String, String> commit = r.getIndexCommit().getUserData();
                    String built = commit.get(MODEL_KEY);
                    if (built != null && !built.equals(embedModel)) {
                        throw new IndexException("the index in " + dir + " was built with embedding model " + built
                                + " but this Keel embeds with " + embedModel
                                + "; vectors of different models can't be mixed. Reindex: move " + dir
                                + " away and run 'keel ingest' on your documents again.");
                    }
                    format = format(commit.get(FORMAT_KEY));
                    if (format > FORMAT) {
                        throw new IndexException("the index in " + dir + " has format " + format + ", written by a newer Keel; this Keel reads"
                                + " format " + FORMAT + " and older. Run the newer Keel, or move " + dir + " away and run 'keel ingest' again.");
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
            writer.setLiveCommitData(Map.of(MODEL_KEY, embedModel, "keel.dimension", Integer.toString(dimension),
                    FORMAT_KEY, Integer.toString(FORMAT)).entrySet());
            searchers = new SearcherManager(writer, null);
            if (format < FORMAT) rewriteOrClose(dir, format);
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
            TopDocs top = s.search(chunksOf(tenant, docId), Integer.MAX_VALUE, new Sort(new SortField(ORDINAL, SortField.Type.INT)));
            List<ChunkRecord> out = new ArrayList<>();
            StoredFields sf = s.storedFields();
            for (ScoreDoc d : top.scoreDocs) out.add(toChunk(sf.document(d.doc)));
            return out;
        });
    }

    @Override
    public List<ChunkRecord> export(String tenant, String docId) {
        return withSearcher(s -> exported(s, chunksOf(tenant, docId)));
    }

    /** The chunks {@code ofDoc} matches in ordinal order, with their index text rebuilt from what is stored and their float vectors. */
    private List<ChunkRecord> exported(IndexSearcher s, Query ofDoc) throws IOException {
        TopDocs top = s.search(ofDoc, Math.max(1, s.count(ofDoc)), new Sort(new SortField(ORDINAL, SortField.Type.INT)));
        Map<Integer, float[]> vectors = vectors(s, Arrays.stream(top.scoreDocs).map(c -> c.doc).toList());
        StoredFields stored = s.storedFields();
        List<ChunkRecord> out = new ArrayList<>(top.scoreDocs.length);
        for (ScoreDoc c : top.scoreDocs) {
            ChunkRecord old = toChunk(stored.document(c.doc));
            out.add(new ChunkRecord(old.tenant(), old.docId(), old.docVersion(), old.ordinal(), old.source(), old.title(), old.sectionPath(), old.body(),
                    ChunkRecord.indexText(old.title(), old.sectionPath(), old.body()), old.embedModel(), old.ingestedAtMillis(), vectors.get(c.doc),
                    old.injection()));
        }
        return out;
    }

    @Override
    public List<String> tenants() {
        return withSearcher(s -> {
            java.util.TreeSet<String> out = new java.util.TreeSet<>();
            for (org.apache.lucene.index.LeafReaderContext leaf : s.getIndexReader().leaves()) {
                org.apache.lucene.index.Terms terms = leaf.reader().terms(TENANT);
                if (terms == null) continue;
                org.apache.lucene.index.TermsEnum it = terms.iterator();
                for (BytesRef t = it.next(); t != null; t = it.next()) out.add(t.utf8ToString());
            }
            // A term outlives its deleted documents until segments merge: keep tenants that still have one.
            out.removeIf(tenant -> {
                try {
                    return s.count(new BooleanQuery.Builder().add(new TermQuery(new Term(KIND, DOC)), BooleanClause.Occur.FILTER)
                            .add(new TermQuery(new Term(TENANT, tenant)), BooleanClause.Occur.FILTER).build()) == 0;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return List.copyOf(out);
        });
    }

    @Override
    public void replace(DocumentRecord doc, List<ChunkRecord> chunks) {
        List<Document> block = new ArrayList<>(chunks.size() + 1);
        block.add(docRecordDocument(doc));
        for (ChunkRecord c : chunks) {
            c.requireWritable(doc, embedModel);
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
            long n = Math.max(1, own.counts(TEXT).docCount());
            Map<String, Double> out = new HashMap<>();
            for (String t : terms) {
                out.put(t, QueryTerms.bm25Idf(n, own.term(new Term(TEXT, t)).map(TermStatistics::docFreq).orElse(0L)));
            }
            return out;
        });
    }

    @Override
    public long chunkCount() {
        return withSearcher(s -> (long) s.count(new TermQuery(new Term(KIND, CHUNK))));
    }

    @Override
    public long chunkCount(String tenant) {
        return withSearcher(s -> (long) s.count(new BooleanQuery.Builder()
                .add(new TermQuery(new Term(KIND, CHUNK)), BooleanClause.Occur.FILTER)
                .add(new TermQuery(new Term(TENANT, tenant)), BooleanClause.Occur.FILTER).build()));
    }

    @Override
    public SearchResult search(SearchRequest req, Trace trace) {
        return withSearcher(s -> {
            Query filter = filterQuery(req);
            int n = Math.max(req.settings().candidates(), req.topK());
            CompletableFuture<Lexical> bm25 = req.mode() == SearchMode.VECTOR ? CompletableFuture.completedFuture(Lexical.NONE)
                    : CompletableFuture.supplyAsync(() -> bm25(s, req, filter, n, trace), parallel);
            CompletableFuture<List<Scored>> knn = req.mode() == SearchMode.BM25 ? CompletableFuture.completedFuture(List.of())
                    : CompletableFuture.supplyAsync(() -> knn(s, req.queryVector(), filter, n, trace), parallel);
            Lexical lexicalSide = bm25.join();
            List<Scored> semantic = knn.join();
            List<Scored> lexical = lexicalSide.hits();
            List<Fusion.Fused> fused = Fusion.fuse(req, lexical, semantic, trace);
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
                        new RankedList("bm25", bm25Entries(lexicalSide, top.stream().map(Fusion.Fused::doc).collect(Collectors.toSet()), s, ids)),
                        ranked("vector", semantic, s, ids),
                        new RankedList("fused", rankedEntries(fused.stream().limit(n).toList(), s, ids)),
                        new RankedList("final", rankedEntries(top, s, ids)));
            }
            return new SearchResult(hits, debug, req.debug() ? lexicalSide.expansion() : List.of());
        });
    }

    /**
     * What the BM25 side found: hits best first, the query they were scored by as its additive parts
     * (for the debug view), and the feedback terms that joined it (empty without feedback).
     */
    private record Lexical(List<Scored> hits, Map<String, Double> terms, Map<String, Query> parts, TenantStatistics.TenantSearcher searcher,
                           List<ExpansionTerm> expansion) {
        static final Lexical NONE = new Lexical(List.of(), Map.of(), Map.of(), null, List.of());
    }

    /**
     * BM25 over the tenant's chunks, scored with the tenant's own statistics: the weighted sum of the
     * title and body fields' scores; with feedback on, a second pass adds the RM3 terms of the first
     * pass's top chunks.
     */
    private Lexical bm25(IndexSearcher s, SearchRequest req, Query filter, int n, Trace trace) {
        try (Span span = trace.span("bm25")) {
            TenantStatistics.TenantSearcher own = statistics.searcher(s.getIndexReader(), req.tenant());
            Map<String, Double> original = queryTerms(own, req.query(), span);
            if (original.isEmpty()) {
                span.attr("hits", 0).attr("note", "no query term occurs in the tenant's documents");
                return Lexical.NONE;
            }
            Map<String, Query> parts = fieldParts(own, original, 1, req.settings());
            List<Scored> hits = bestFirst(s, scored(own.search(filtered(parts, filter), n)));
            span.attr("hits", hits.size());
            Lexical first = new Lexical(hits, original, parts, own, List.of());
            SearchConfig settings = req.settings();
            if (!settings.prf() || settings.prfWeight() == 0 || hits.isEmpty()) return first;
            return feedback(s, req, filter, n, first, hits.subList(0, Math.min(settings.prfDocs(), hits.size())), trace);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The second BM25 pass of pseudo-relevance feedback: the query's terms, weighted 1 − prfWeight,
     * plus the feedback chunks' RM3 terms, weighted prfWeight × the query's total term weight (so the
     * scale of scores stays that of the first pass). The first pass when no feedback term is found.
     */
    private Lexical feedback(IndexSearcher s, SearchRequest req, Query filter, int n, Lexical first, List<Scored> feedbackDocs, Trace trace)
            throws IOException {
        SearchConfig settings = req.settings();
        try (Span prf = trace.span("prf")) {
            List<ExpansionTerm> expansion = expansion(s, first.searcher(), req.tenant(), feedbackDocs, first.terms().keySet(), settings.prfTerms());
            prf.attr("docs", feedbackDocs.size()).attr("terms", expansion.size());
            if (expansion.isEmpty()) return first;
            Map<String, Query> expanded = fieldParts(first.searcher(), first.terms(), 1 - settings.prfWeight(), settings);
            Map<String, Double> feedback = QueryTerms.feedbackWeights(first.terms(), expansion, settings.prfWeight());
            expanded.put("prf", sum(fieldParts(first.searcher(), feedback, 1, settings).values()));
            List<Scored> hits = bestFirst(s, scored(first.searcher().search(filtered(expanded, filter), n)));
            prf.attr("hits", hits.size());
            return new Lexical(hits, first.terms(), expanded, first.searcher(), expansion);
        }
    }

    /**
     * One query per BM25 field of non-zero weight: each term's clause boosted by its weight × the
     * field's weight × {@code scale}. Their sum is the lexical query; each alone, a field's share of a score.
     */
    private static Map<String, Query> fieldParts(TenantStatistics.TenantSearcher own, Map<String, Double> terms, double scale,
                                                 SearchConfig settings) {
        Map<String, Query> parts = new LinkedHashMap<>();
        if (settings.titleWeight() > 0) parts.put("title", fieldQuery(own, TITLE_TERMS, terms, scale * settings.titleWeight()));
        if (settings.bodyWeight() > 0) parts.put("body", fieldQuery(own, BODY_TERMS, terms, scale * settings.bodyWeight()));
        return parts;
    }

    /**
     * The field's clauses for the terms the tenant's chunks have in that field. Lucene cannot score a
     * term that has no statistics (the tenant's) where a segment has it (another tenant's), and such a
     * clause could match no chunk of the tenant anyway.
     */
    private static Query fieldQuery(TenantStatistics.TenantSearcher own, String field, Map<String, Double> terms, double scale) {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        terms.forEach((t, w) -> {
            Term fieldTerm = new Term(field, t);
            if (own.term(fieldTerm).isEmpty()) return;
            Query term = new TermQuery(fieldTerm);
            double boost = w * scale;
            b.add(boost == 1 ? term : new BoostQuery(term, (float) boost), BooleanClause.Occur.SHOULD);
        });
        return b.build();
    }

    private static Query sum(Collection<Query> parts) {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (Query p : parts) b.add(p, BooleanClause.Occur.SHOULD);
        return b.build();
    }

    private static Query filtered(Map<String, Query> parts, Query filter) {
        return new BooleanQuery.Builder().add(sum(parts.values()), BooleanClause.Occur.MUST).add(filter, BooleanClause.Occur.FILTER).build();
    }

    /**
     * RM3's relevance model over the feedback chunks (all of the searching tenant: they are its own
     * filtered hits, and are checked again here), keeping at most {@code max} terms and, with the
     * query's own terms, at most {@link #MAX_QUERY_TERMS} distinct ones.
     */
    private List<ExpansionTerm> expansion(IndexSearcher s, TenantStatistics.TenantSearcher own, String tenant, List<Scored> feedbackDocs,
                                          Set<String> queryTerms, int max) throws IOException {
        StoredFields stored = s.storedFields();
        List<RelevanceModel.FeedbackDoc> docs = new ArrayList<>(feedbackDocs.size());
        for (Scored d : feedbackDocs) {
            Document doc = stored.document(d.doc(), Set.of(TENANT, TITLE, SECTION, BODY));
            if (!tenant.equals(doc.get(TENANT))) throw new IllegalStateException("tenant isolation violated");
            docs.add(RelevanceModel.FeedbackDoc.of(d.score(), doc.get(TITLE), List.of(doc.getValues(SECTION)), doc.get(BODY), this::terms));
        }
        long count = Math.max(1, own.counts(TEXT).docCount());
        ToDoubleFunction<String> idf = t -> QueryTerms.bm25Idf(count, own.term(new Term(TEXT, t)).map(TermStatistics::docFreq).orElse(0L));
        return RelevanceModel.expansion(docs, idf, QueryTerms.bm25Idf(count, 1), max, queryTerms, MAX_QUERY_TERMS - queryTerms.size());
    }

    /** The query's terms as {@link QueryTerms#select} keeps them, by the tenant's document frequencies. */
    private Map<String, Double> queryTerms(TenantStatistics.TenantSearcher own, String query, Span span) {
        return QueryTerms.select(terms(query), t -> own.term(new Term(TEXT, t)).map(TermStatistics::docFreq).orElse(0L), span);
    }

    @Override
    public List<String> terms(String text) {
        return QueryTerms.analyse(analyzer, text);
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
        if (f.withoutFlagged()) b.add(new TermQuery(new Term(FLAGGED, FLAGGED_MARK)), BooleanClause.Occur.MUST_NOT);
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

    /**
     * The BM25 list for the debug view; the entries of chunks in the final list ({@code explained})
     * carry their score split into its additive parts (title, body, and with feedback, prf), scored by
     * the same tenant searcher. Only those: each split explains every clause of the query, so splitting
     * all candidates of a long query would let a debug request cost far more than a search.
     */
    private List<RankedList.Entry> bm25Entries(Lexical lexical, Set<Integer> explained, IndexSearcher s, Map<Integer, String> ids)
            throws IOException {
        List<RankedList.Entry> entries = new ArrayList<>(lexical.hits().size());
        for (int i = 0; i < lexical.hits().size(); i++) {
            Scored hit = lexical.hits().get(i);
            Map<String, Double> parts = new LinkedHashMap<>();
            if (explained.contains(hit.doc())) {
                for (Map.Entry<String, Query> part : lexical.parts().entrySet()) {
                    parts.put(part.getKey(), (double) lexical.searcher().explain(part.getValue(), hit.doc()).getValue().floatValue());
                }
            }
            entries.add(new RankedList.Entry(i + 1, chunkId(s, hit.doc(), ids), hit.score(), parts));
        }
        return entries;
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

    /** The format named in a commit; 1 when it names none (indexes written before formats were marked). */
    private static int format(String marker) {
        if (marker == null) return 1;
        try {
            return Integer.parseInt(marker);
        } catch (NumberFormatException e) {
            throw new IndexException("the index's format marker '" + marker + "' is not a number; the index was not written by Keel");
        }
    }

    private void rewriteOrClose(Path dir, int from) throws IOException {
        try {
            rewrite(from);
        } catch (IOException | RuntimeException e) {
            searchers.close();
            writer.rollback();
            directory.close();
            throw new IndexException("cannot rewrite the index in " + dir + " from format " + from + " to " + FORMAT + ": " + e.getMessage()
                    + "; it is unchanged. Move " + dir + " away and run 'keel ingest' on your documents again.", e);
        }
    }

    /**
     * Rewrites every document of an index of an older format from what it stores (catalogue entry,
     * chunk texts, float vectors): chunks gain the fields of this format, no vector is recomputed.
     * One commit at the end, so a crash midway leaves the old index, rewritten again at the next open.
     */
    private void rewrite(int from) throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            Query catalogue = new TermQuery(new Term(KIND, DOC));
            TopDocs docs = s.search(catalogue, Math.max(1, s.count(catalogue)));
            StoredFields stored = s.storedFields();
            for (ScoreDoc d : docs.scoreDocs) {
                DocumentRecord doc = toDocument(stored.document(d.doc));
                List<Document> block = new ArrayList<>();
                block.add(docRecordDocument(doc));
                for (ChunkRecord c : exported(s, chunksOf(doc.tenant(), doc.docId()))) block.add(chunkDocument(c));
                writer.updateDocuments(new Term(DOC_KEY, docKey(doc.tenant(), doc.docId())), block);
            }
            LOG.info("rewrote the index from format {} to {}: {} documents, no re-embedding", from, FORMAT, docs.scoreDocs.length);
        } finally {
            searchers.release(s);
        }
        commit();
    }

    private static Query chunksOf(String tenant, String docId) {
        return new BooleanQuery.Builder()
                .add(new TermQuery(new Term(KIND, CHUNK)), BooleanClause.Occur.FILTER)
                .add(new TermQuery(new Term(DOC_KEY, docKey(tenant, docId))), BooleanClause.Occur.FILTER).build();
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
        doc.add(new StringField(SOURCE_KW, SearchFilters.keyword(d.source()), Field.Store.NO));
        doc.add(new SortedDocValuesField(SOURCE_KW, new BytesRef(SearchFilters.keyword(d.source()))));
        doc.add(new StoredField(TITLE, d.title()));
        doc.add(new StoredField(CONTENT_TYPE, d.contentType()));
        doc.add(new StoredField(BYTES, d.bytes()));
        doc.add(new StoredField(CHUNKS, d.chunkCount()));
        doc.add(new StoredField(INGESTED, d.ingestedAtMillis()));
        doc.add(new StoredField(MODIFIED, d.modifiedAtMillis()));
        if (d.scanned()) doc.add(new StoredField(FLAGGED_CHUNKS, d.flaggedChunks()));
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
        doc.add(new StringField(SOURCE_KW, SearchFilters.keyword(c.source()), Field.Store.NO));
        doc.add(new SortedDocValuesField(SOURCE_KW, new BytesRef(SearchFilters.keyword(c.source()))));
        doc.add(new StoredField(TITLE, c.title()));
        for (String s : c.sectionPath()) doc.add(new StoredField(SECTION, s));
        doc.add(new StringField(SECTION_KW, SearchFilters.keyword(c.section()), Field.Store.NO));
        doc.add(new StoredField(BODY, c.body()));
        doc.add(new TextField(TEXT, c.indexText(), Field.Store.NO));
        doc.add(new NumericDocValuesField(TEXT_LENGTH, terms(c.indexText()).size()));
        String title = ChunkRecord.titleText(c.title(), c.sectionPath());
        doc.add(new TextField(TITLE_TERMS, title, Field.Store.NO));
        doc.add(new NumericDocValuesField(TITLE_TERMS_LENGTH, terms(title).size()));
        doc.add(new TextField(BODY_TERMS, c.body(), Field.Store.NO));
        doc.add(new NumericDocValuesField(BODY_TERMS_LENGTH, terms(c.body()).size()));
        doc.add(new StoredField(MODEL, c.embedModel()));
        doc.add(new StoredField(INGESTED, c.ingestedAtMillis()));
        doc.add(new KnnFloatVectorField(VECTOR, c.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        if (c.injection().scanned()) doc.add(new StoredField(INJECTION_SCORE, c.injection().score()));
        if (c.injection().flagged()) doc.add(new StringField(FLAGGED, FLAGGED_MARK, Field.Store.YES));
        return doc;
    }

    private static ChunkRecord toChunk(Document d) {
        return new ChunkRecord(d.get(TENANT), d.get(DOC_ID), d.get(VERSION), d.getField(ORDINAL).numericValue().intValue(),
                d.get(SOURCE), d.get(TITLE), List.of(d.getValues(SECTION)), d.get(BODY), null, d.get(MODEL),
                d.getField(INGESTED).numericValue().longValue(), null, injection(d));
    }

    /** A stored chunk's scan: flagged as it was when written (by the threshold then in force). */
    private static InjectionFlag injection(Document d) {
        var score = d.getField(INJECTION_SCORE);
        if (score == null) return InjectionFlag.NOT_SCANNED;
        return new InjectionFlag(true, score.numericValue().doubleValue(), FLAGGED_MARK.equals(d.get(FLAGGED)));
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
                d.getField(INGESTED).numericValue().longValue(), d.getField(MODIFIED).numericValue().longValue(), meta,
                d.getField(FLAGGED_CHUNKS) == null ? DocumentRecord.NOT_SCANNED : d.getField(FLAGGED_CHUNKS).numericValue().intValue());
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

}
