package dev.keel.ingest;

import java.util.List;

/**
 * Summary of an ingest run: every document's outcome, chunks written and how many of them the
 * injection scan flagged, wall time, and how many files inside folders were skipped for an
 * unsupported type (by extension).
 */
public record IngestReport(List<DocumentOutcome> outcomes, long chunksWritten, long chunksFlagged, double seconds,
                           java.util.Map<String, Integer> skipped) {
    public long count(DocumentOutcome.Status status) {
        return outcomes.stream().filter(o -> o.status() == status).count();
    }

    public List<DocumentOutcome> failures() {
        return outcomes.stream().filter(o -> o.status() == DocumentOutcome.Status.FAILED).toList();
    }
}
