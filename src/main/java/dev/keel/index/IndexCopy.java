package dev.keel.index;

import java.util.List;

/**
 * Copies every tenant's documents, chunks and vectors from one index into another through the
 * {@link ChunkIndex} SPI ({@link ChunkIndex#export}: no re-embedding), e.g. the embedded Lucene
 * index into a distributed one. Resumable: a document the target already holds at the same version is
 * skipped, and the target commits every {@link #COMMIT_EVERY} documents, so a rerun after an
 * interruption redoes at most the documents of one uncommitted stretch. Refuses two indexes of different
 * embedding models (their vectors would not compare). Documents only in the target are left alone.
 */
public final class IndexCopy {
    /** Documents written between commits: bounds what an interruption costs a rerun without committing per document. */
    static final int COMMIT_EVERY = 200;
    private static final int PAGE = 500;

    /** One tenant's progress: {@code seen} documents so far, {@code copied} of them written (the others were already there). */
    public record Progress(String tenant, long seen, long copied) {}

    /** Told after every page of documents and once per tenant when it is done. */
    @FunctionalInterface
    public interface Listener {
        void progress(Progress progress);
    }

    private IndexCopy() {}

    /** Copies what {@code to} lacks; returns the number of documents written. */
    public static long copy(ChunkIndex from, ChunkIndex to, Listener listener) {
        if (!from.embedModel().equals(to.embedModel())) {
            throw new IndexException("the target index holds vectors of " + to.embedModel() + ", the source of " + from.embedModel()
                    + ": copy only between indexes of one embedding model (a model change is a reindex)");
        }
        long written = 0, sinceCommit = 0;
        for (String tenant : from.tenants()) {
            long seen = 0, copied = 0;
            for (int offset = 0; ; offset += PAGE) {
                List<DocumentRecord> page = from.documents(tenant, offset, PAGE);
                for (DocumentRecord doc : page) {
                    seen++;
                    boolean present = to.document(tenant, doc.docId()).map(d -> d.version().equals(doc.version())).orElse(false);
                    if (present) continue;
                    to.replace(doc, from.export(tenant, doc.docId()));
                    copied++;
                    if (++sinceCommit == COMMIT_EVERY) {
                        to.commit();
                        sinceCommit = 0;
                    }
                }
                listener.progress(new Progress(tenant, seen, copied));
                if (page.size() < PAGE) break;
            }
            written += copied;
        }
        to.commit();
        return written;
    }
}
