package dev.keel.index;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.ConjunctionUtils;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TermStatistics;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.SmallFloat;

/**
 * BM25 statistics of one tenant's live chunks, per text field: document count, total length, and each term's
 * document and total frequency, counted over that tenant's chunks that are not deleted, and over
 * nothing else. They equal the statistics of an index that holds only that tenant's current
 * documents, so nothing another tenant writes, updates or deletes — nor when Lucene merges it away —
 * moves a tenant's scores. (Lucene's own statistics span every tenant and count deleted documents
 * until a merge drops them: tenant B's score for a word would fall when tenant A ingests it.)
 *
 * <p>Why this and not a field or an index per tenant: those still count deleted documents until a
 * merge, and merges run when any tenant writes; a field per tenant also multiplies field metadata
 * by the number of tenants, an index per tenant multiplies writers and files. Here the index stays
 * one, and the cost falls where the statistics are computed: a segment's per-tenant document count
 * and length sum are computed once per state of its deletions (cached; deletions only grow, so
 * their count names the state), and a term's document frequency comes straight from the term
 * dictionary when a segment holds only live chunks of that tenant, else from its postings
 * intersected with the tenant's (cached the same way). Chunk lengths are the exact token counts
 * stored at indexing (each text field's length field); chunks indexed before that existed fall back
 * to their BM25 norm. Every text field is covered alike: no field's statistics are Lucene's.
 *
 * <p>Thread-safe. Holds no readers: cache entries are keyed by a segment's core identity and are
 * evicted by size (entries of merged-away segments are never hit again and age out).
 */
final class TenantStatistics {
    /** Segment × tenant entries kept; each is a few dozen bytes, and a miss costs one pass over the tenant's postings in a segment. */
    private static final int MAX_CACHED_SEGMENT_COUNTS = 100_000;
    /**
     * Segment × tenant × term frequencies kept, for segments shared with other tenants (or with
     * deletions), where a miss intersects the term's postings with the tenant's; about 150 bytes each.
     */
    private static final int MAX_CACHED_SEGMENT_TERMS = 200_000;

    private final String tenantField;
    /** Text fields whose statistics are the tenant's, each with the doc-values field holding its exact token count. */
    private final Map<String, String> lengthFields;
    private final Cache<SegmentKey, Counts> segmentCounts = Caffeine.newBuilder().maximumSize(MAX_CACHED_SEGMENT_COUNTS).build();
    private final Cache<TermKey, Frequencies> segmentTerms = Caffeine.newBuilder().maximumSize(MAX_CACHED_SEGMENT_TERMS).build();

    TenantStatistics(String tenantField, Map<String, String> lengthFields) {
        this.tenantField = tenantField;
        this.lengthFields = Map.copyOf(lengthFields);
    }

    /** Document count and total token count of a text field over one tenant's live chunks. */
    record Counts(long docCount, long sumLength) {
        static final Counts NONE = new Counts(0, 0);

        Counts plus(Counts o) {
            return new Counts(docCount + o.docCount, sumLength + o.sumLength);
        }
    }

    /** A term's document and total frequency over one tenant's live chunks in one segment. */
    private record Frequencies(long docFreq, long totalTermFreq) {}

    /** A segment's core, the number of its deleted documents (which names its live-docs state), a tenant and a text field. */
    private record SegmentKey(Object core, int deleted, String tenant, String field) {}

    private record TermKey(SegmentKey segment, BytesRef term) {}

    /** A searcher over {@code reader} whose BM25 statistics for the text fields are {@code tenant}'s. Not thread-safe. */
    TenantSearcher searcher(IndexReader reader, String tenant) {
        return new TenantSearcher(reader, tenant);
    }

    /** The searcher: Lucene asks it for statistics when it builds a term query's scorer. */
    final class TenantSearcher extends IndexSearcher {
        private final String tenant;
        private final Map<Term, Optional<TermStatistics>> terms = new HashMap<>();
        private final Map<String, Counts> counts = new HashMap<>();

        private TenantSearcher(IndexReader reader, String tenant) {
            super(reader);
            this.tenant = tenant;
        }

        /** The tenant's document count and length sum of a text field. */
        Counts counts(String field) {
            return counts.computeIfAbsent(field, f -> {
                try {
                    return TenantStatistics.this.counts(getIndexReader(), tenant, f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        /** The tenant's statistics of a term of a text field; empty when none of its live chunks contains it. */
        Optional<TermStatistics> term(Term term) {
            return terms.computeIfAbsent(term, t -> {
                try {
                    return ofTerm(getIndexReader(), tenant, t);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        @Override
        public CollectionStatistics collectionStatistics(String field) throws IOException {
            if (!lengthFields.containsKey(field)) return super.collectionStatistics(field);
            Counts c = counts(field);
            // maxDoc and sumDocFreq are not read by BM25; these are the smallest values CollectionStatistics accepts.
            return c.docCount() == 0 ? null : new CollectionStatistics(field, c.docCount(), c.docCount(), c.sumLength(), c.docCount());
        }

        /** Null (Lucene then builds no scorer) for a term no live chunk of the tenant has; a lexical query keeps none such. */
        @Override
        public TermStatistics termStatistics(Term term, int docFreq, long totalTermFreq) throws IOException {
            if (!lengthFields.containsKey(term.field())) return super.termStatistics(term, docFreq, totalTermFreq);
            return term(term).orElse(null);
        }
    }

    /** The tenant's document count and length sum over a text field, summed over segments. */
    private Counts counts(IndexReader reader, String tenant, String field) throws IOException {
        Counts total = Counts.NONE;
        for (LeafReaderContext leaf : reader.leaves()) total = total.plus(segmentCounts(leaf.reader(), tenant, field));
        return total;
    }

    private Optional<TermStatistics> ofTerm(IndexReader reader, String tenant, Term fieldTerm) throws IOException {
        String field = fieldTerm.field();
        BytesRef term = fieldTerm.bytes();
        long docFreq = 0, totalTermFreq = 0;
        for (LeafReaderContext leaf : reader.leaves()) {
            LeafReader r = leaf.reader();
            Terms text = r.terms(field);
            if (text == null) continue;
            TermsEnum te = text.iterator();
            if (!te.seekExact(term)) continue;
            Counts own = segmentCounts(r, tenant, field);
            if (own.docCount() == 0) continue;
            if (!r.hasDeletions() && own.docCount() == text.getDocCount()) {
                docFreq += te.docFreq();
                totalTermFreq += te.totalTermFreq();
                continue;
            }
            SegmentKey segment = segmentKey(r, tenant, field);
            Frequencies f = segment == null ? computeFrequencies(r, tenant, te)
                    : segmentTerms.get(new TermKey(segment, BytesRef.deepCopyOf(term)), k -> computeFrequencies(r, tenant, te));
            docFreq += f.docFreq();
            totalTermFreq += f.totalTermFreq();
        }
        return docFreq == 0 ? Optional.empty() : Optional.of(new TermStatistics(term, docFreq, totalTermFreq));
    }

    /** The term's frequencies over the tenant's live chunks of a segment: its postings intersected with the tenant's. */
    private Frequencies computeFrequencies(LeafReader r, String tenant, TermsEnum positioned) {
        try {
            PostingsEnum withTerm = positioned.postings(null, PostingsEnum.FREQS);
            DocIdSetIterator both = ConjunctionUtils.intersectIterators(List.of(withTerm, tenantDocs(r, tenant)));
            Bits live = r.getLiveDocs();
            long docFreq = 0, totalTermFreq = 0;
            for (int doc = both.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = both.nextDoc()) {
                if (live != null && !live.get(doc)) continue;
                docFreq++;
                totalTermFreq += withTerm.freq();
            }
            return new Frequencies(docFreq, totalTermFreq);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Null when the segment has no core identity to cache by. */
    private static SegmentKey segmentKey(LeafReader r, String tenant, String field) {
        LeafReader.CacheHelper core = r.getCoreCacheHelper();
        return core == null ? null : new SegmentKey(core.getKey(), r.numDeletedDocs(), tenant, field);
    }

    private Counts segmentCounts(LeafReader r, String tenant, String field) {
        SegmentKey key = segmentKey(r, tenant, field);
        return key == null ? computeSegmentCounts(r, tenant, field) : segmentCounts.get(key, k -> computeSegmentCounts(r, tenant, field));
    }

    private Counts computeSegmentCounts(LeafReader r, String tenant, String field) {
        try {
            PostingsEnum docs = tenantDocs(r, tenant);
            if (docs == null) return Counts.NONE;
            Bits live = r.getLiveDocs();
            NumericDocValues lengths = r.getNumericDocValues(lengthFields.get(field));
            NumericDocValues norms = r.getNormValues(field);
            long docCount = 0, sumLength = 0;
            for (int doc = docs.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = docs.nextDoc()) {
                if (live != null && !live.get(doc)) continue;
                long length = length(doc, lengths, norms);
                if (length > 0) {
                    docCount++;
                    sumLength += length;
                }
            }
            return new Counts(docCount, sumLength);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Token count of a chunk's text field: stored exactly, or (chunks indexed before lengths were stored) decoded from its norm; 0 for catalogue entries. */
    private static long length(int doc, NumericDocValues lengths, NumericDocValues norms) throws IOException {
        if (lengths != null && lengths.advanceExact(doc)) return lengths.longValue();
        if (norms != null && norms.advanceExact(doc)) return SmallFloat.byte4ToInt((byte) norms.longValue());
        return 0;
    }

    /** The tenant's documents (catalogue entries and chunks, live or not) in a segment; null when it has none there. */
    private PostingsEnum tenantDocs(LeafReader r, String tenant) throws IOException {
        Terms tenants = r.terms(tenantField);
        if (tenants == null) return null;
        TermsEnum te = tenants.iterator();
        return te.seekExact(new BytesRef(tenant)) ? te.postings(null, PostingsEnum.NONE) : null;
    }
}
