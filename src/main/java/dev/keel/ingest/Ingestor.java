package dev.keel.ingest;

import dev.keel.config.IngestConfig;
import dev.keel.embed.CachingEmbedder;
import dev.keel.guard.Guard;
import dev.keel.index.ChunkIndex;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.index.InjectionFlag;
import dev.keel.store.ContentHash;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Ingests documents into the index: hash → (unchanged? stop) → parse → chunk → scan → embed → replace.
 * A document is written whole or not at all; an unchanged document (same content hash) is neither
 * parsed nor embedded nor scanned again. The scan (on with {@code guard.enabled} and
 * {@code guard.indirect.scan}) scores every chunk for instructions aimed at a model and flags those
 * at or above {@code guard.indirect.threshold}; a changed document's chunks whose text is unchanged
 * keep their scores. A document written without the scan counts as changed once the scan is on. Chunks of several documents are embedded together in batches. Thread-safe
 * for concurrent callers: writes of one (tenant, document id) are serialised, each seeing the one
 * before it committed (so of concurrent first writes exactly one is ADDED), while other documents
 * and tenants proceed in parallel. Every batch is committed before its documents are released.
 */
public final class Ingestor {
    /** A batch is written when it holds this many documents or bytes; larger batches embed more efficiently, smaller lose less to a crash. */
    private static final int BATCH_DOCUMENTS = 64;
    private static final long BATCH_BYTES = 4L * 1024 * 1024;

    private final ChunkIndex index;
    private final CachingEmbedder embedder;
    private final IngestConfig config;
    private final DocumentParsers parsers;
    private final Chunker chunker;
    private final int batchChunks;
    private final DocumentLocks locks = new DocumentLocks();
    private final Guard guard;

    public Ingestor(ChunkIndex index, CachingEmbedder embedder, IngestConfig config, int batchChunks, Guard guard) {
        this.index = index;
        this.guard = guard;
        this.embedder = embedder;
        this.config = config;
        this.parsers = new DocumentParsers(config);
        this.chunker = new Chunker(config.chunking());
        this.batchChunks = batchChunks;
    }

    /** Stable id of a file document: derived from its absolute path. */
    public static String fileDocId(Path file) {
        return "f_" + ContentHash.sha256(file.toAbsolutePath().normalize().toString()).substring(0, 16);
    }

    /** Ingests one document (the HTTP path). Throws nothing for bad input: the outcome says FAILED and why. */
    public DocumentOutcome ingest(String tenant, SourceDocument doc, Trace trace) {
        return write(tenant, List.of(doc), trace).get(0);
    }

    /**
     * Ingests files and folders (recursively; hidden entries and unsupported types inside folders are
     * skipped, but a named file of an unsupported type fails). With {@code sync}, documents previously
     * ingested from a named folder whose file is gone are deleted.
     */
    public IngestReport ingestPaths(String tenant, List<Path> paths, boolean sync, Trace trace, IngestListener listener) {
        long start = System.nanoTime();
        List<DocumentOutcome> outcomes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Path> folders = new ArrayList<>();
        java.util.Map<String, Integer> skipped = new java.util.TreeMap<>();
        try (Span span = trace.span("scan")) {
            for (Path p : paths) {
                Path abs = p.toAbsolutePath().normalize();
                if (Files.isDirectory(abs)) {
                    folders.add(abs);
                    walk(abs, files, skipped);
                } else if (Files.isRegularFile(abs)) {
                    files.add(abs);
                } else {
                    outcomes.add(DocumentOutcome.failed(fileDocId(abs), abs.toString(), DocumentOutcome.ErrorKind.IO, abs + ": no such file or folder"));
                }
            }
            span.attr("files", files.size());
        }
        Batches batches = new Batches(tenant, trace, outcomes);
        int done = 0;
        for (Path file : files) {
            Optional<SourceDocument> doc = read(file, outcomes);
            done++;
            if (doc.isPresent() && batches.add(doc.get())) listener.progress(done, files.size(), batches.chunks, (System.nanoTime() - start) / 1e9);
        }
        batches.flush();
        if (sync) outcomes.addAll(deleteMissing(tenant, folders, files));
        listener.progress(files.size(), files.size(), batches.chunks, (System.nanoTime() - start) / 1e9);
        return new IngestReport(outcomes, batches.chunks, batches.flagged, (System.nanoTime() - start) / 1e9, skipped);
    }

    /** Ingests in-memory documents in batches (datasets, benchmarks). */
    public IngestReport ingestDocuments(String tenant, List<SourceDocument> docs, Trace trace, IngestListener listener) {
        long start = System.nanoTime();
        Batches batches = new Batches(tenant, trace, new ArrayList<>());
        for (int i = 0; i < docs.size(); i++) {
            if (batches.add(docs.get(i))) listener.progress(i + 1, docs.size(), batches.chunks, (System.nanoTime() - start) / 1e9);
        }
        batches.flush();
        listener.progress(docs.size(), docs.size(), batches.chunks, (System.nanoTime() - start) / 1e9);
        return new IngestReport(batches.outcomes, batches.chunks, batches.flagged, (System.nanoTime() - start) / 1e9, java.util.Map.of());
    }

    /**
     * Deletes a document, its chunks and vectors, and the stored embeddings of its chunk texts that no
     * other document of the tenant uses, then commits. False when the document does not exist.
     */
    public boolean delete(String tenant, String docId) {
        try (DocumentLocks.Held held = locks.lock(tenant, List.of(docId))) {
            if (!index.delete(tenant, docId)) return false;
            embedder.forgetDocument(tenant, docId);
            index.commit();
            return true;
        }
    }

    /** Documents gathered into batches of one tenant; a second version of a gathered document goes into the next batch. */
    private final class Batches {
        private final String tenant;
        private final Trace trace;
        private final List<DocumentOutcome> outcomes;
        private final List<SourceDocument> pending = new ArrayList<>();
        private long pendingBytes;
        private long chunks;
        private long flagged;

        Batches(String tenant, Trace trace, List<DocumentOutcome> outcomes) {
            this.tenant = tenant;
            this.trace = trace;
            this.outcomes = outcomes;
        }

        /** Adds a document; true when a batch was written. */
        boolean add(SourceDocument doc) {
            boolean wrote = false;
            if (pending.stream().anyMatch(p -> p.docId().equals(doc.docId()))) wrote = flush();
            pending.add(doc);
            pendingBytes += doc.content().length;
            if (pending.size() >= BATCH_DOCUMENTS || pendingBytes >= BATCH_BYTES) wrote |= flush();
            return wrote;
        }

        /** Writes the pending documents; true when there were any. */
        boolean flush() {
            if (pending.isEmpty()) return false;
            List<DocumentOutcome> batch = write(tenant, pending, trace);
            pending.clear();
            pendingBytes = 0;
            outcomes.addAll(batch);
            List<DocumentOutcome> written = batch.stream()
                    .filter(o -> o.status() == DocumentOutcome.Status.ADDED || o.status() == DocumentOutcome.Status.UPDATED).toList();
            chunks += written.stream().mapToLong(DocumentOutcome::chunks).sum();
            flagged += written.stream().mapToLong(DocumentOutcome::flaggedChunks).sum();
            return true;
        }
    }

    /** Writes documents of distinct ids under their locks, committed before the locks are released. */
    private List<DocumentOutcome> write(String tenant, List<SourceDocument> docs, Trace trace) {
        try (DocumentLocks.Held held = locks.lock(tenant, docs.stream().map(SourceDocument::docId).toList())) {
            List<DocumentOutcome> outcomes = ingestBatch(tenant, docs, trace);
            index.commit();
            return outcomes;
        }
    }

    private List<DocumentOutcome> deleteMissing(String tenant, List<Path> folders, List<Path> files) {
        Set<String> present = new HashSet<>();
        for (Path f : files) present.add(f.toString());
        List<DocumentOutcome> out = new ArrayList<>();
        for (DocumentRecord d : index.documents(tenant, 0, Integer.MAX_VALUE)) {
            for (Path folder : folders) {
                if (d.source().startsWith(folder + java.io.File.separator) && !present.contains(d.source())) {
                    delete(tenant, d.docId());
                    out.add(new DocumentOutcome(d.docId(), d.source(), DocumentOutcome.Status.DELETED, d.chunkCount(), d.version(), null,
                            DocumentOutcome.ErrorKind.NONE, 0));
                    break;
                }
            }
        }
        return out;
    }

    private Optional<SourceDocument> read(Path file, List<DocumentOutcome> outcomes) {
        String id = fileDocId(file);
        Optional<DocumentFormat> format = DocumentFormat.ofFileName(file.getFileName().toString());
        if (format.isEmpty()) {
            String name = file.getFileName().toString();
            int dot = name.lastIndexOf('.');
            outcomes.add(DocumentOutcome.failed(id, file.toString(), DocumentOutcome.ErrorKind.UNSUPPORTED,
                    new UnsupportedFormatException(dot < 0 ? "(no extension)" : name.substring(dot)).getMessage()));
            return Optional.empty();
        }
        try {
            long size = Files.size(file);
            if (size > config.maxFileBytes()) {
                outcomes.add(DocumentOutcome.failed(id, file.toString(), DocumentOutcome.ErrorKind.TOO_LARGE,
                        file + ": " + size + " bytes is over the limit of " + config.maxFileBytes() + " (ingest.max_file_bytes)"));
                return Optional.empty();
            }
            return Optional.of(new SourceDocument(id, file.toString(), file.getFileName().toString(), format.get(),
                    Files.readAllBytes(file), Files.getLastModifiedTime(file).toMillis(), java.util.Map.of(), null));
        } catch (IOException e) {
            outcomes.add(DocumentOutcome.failed(id, file.toString(), DocumentOutcome.ErrorKind.IO, file + ": cannot read: " + e.getMessage()));
            return Optional.empty();
        }
    }

    private record Prepared(SourceDocument source, String version, boolean existed, String title, List<Chunker.Draft> drafts, List<String> texts) {}

    private List<DocumentOutcome> ingestBatch(String tenant, List<SourceDocument> docs, Trace trace) {
        DocumentOutcome[] outcomes = new DocumentOutcome[docs.size()];
        List<Prepared> prepared = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            SourceDocument doc = docs.get(i);
            String version = ContentHash.sha256(doc.content());
            Optional<DocumentRecord> existing = index.document(tenant, doc.docId());
            if (existing.isPresent() && existing.get().version().equals(version) && existing.get().metadata().equals(doc.metadata())
                    && (existing.get().scanned() || !scanning())) {
                outcomes[i] = new DocumentOutcome(doc.docId(), doc.source(), DocumentOutcome.Status.UNCHANGED, existing.get().chunkCount(),
                        version, null, DocumentOutcome.ErrorKind.NONE, Math.max(0, existing.get().flaggedChunks()));
                continue;
            }
            ParsedDocument parsed;
            try (Span span = trace.span("parse")) {
                span.attr("format", doc.format().name().toLowerCase()).attr("bytes", doc.content().length);
                try {
                    parsed = parsers.parse(doc.format(), doc.content(), doc.fileName());
                } catch (DocumentParseException e) {
                    span.error("unparsable");
                    outcomes[i] = DocumentOutcome.failed(doc.docId(), doc.source(), DocumentOutcome.ErrorKind.UNPARSABLE, e.getMessage());
                    continue;
                } catch (DocumentTooLargeException e) {
                    span.error("too_large");
                    outcomes[i] = DocumentOutcome.failed(doc.docId(), doc.source(), DocumentOutcome.ErrorKind.TOO_LARGE, doc.fileName() + ": " + e.getMessage());
                    continue;
                } catch (RuntimeException e) {
                    span.error("parser_crash");
                    outcomes[i] = DocumentOutcome.failed(doc.docId(), doc.source(), DocumentOutcome.ErrorKind.UNPARSABLE,
                            doc.fileName() + ": cannot parse: " + e);
                    continue;
                }
            }
            List<Chunker.Draft> drafts;
            try (Span span = trace.span("chunk")) {
                drafts = chunker.chunk(parsed);
                span.attr("chunks", drafts.size()).attr("strategy", config.chunking().strategy().name().toLowerCase());
            }
            if (drafts.size() > config.maxChunksPerDocument()) {
                outcomes[i] = DocumentOutcome.failed(doc.docId(), doc.source(), DocumentOutcome.ErrorKind.TOO_LARGE,
                        doc.fileName() + ": " + DocumentTooLargeException.chunks(config.maxChunksPerDocument()).getMessage());
                continue;
            }
            String title = shortened(doc.title() != null && !doc.title().isBlank() ? doc.title().strip() : parsed.title(), config.maxTitleChars());
            List<String> texts = drafts.stream().map(d -> indexText(title, d.section(), d.body())).toList();
            prepared.add(new Prepared(doc, version, existing.isPresent(), title, drafts, texts));
            slots.add(i);
        }
        if (!prepared.isEmpty()) {
            List<String> all = prepared.stream().flatMap(p -> p.texts().stream()).toList();
            List<List<InjectionFlag>> flags = scan(tenant, prepared, trace);
            List<float[]> vectors = embed(tenant, all, trace);
            int at = 0;
            long now = System.currentTimeMillis();
            try (Span span = trace.span("index")) {
                for (int k = 0; k < prepared.size(); k++) {
                    Prepared p = prepared.get(k);
                    SourceDocument d = p.source();
                    List<ChunkRecord> chunks = new ArrayList<>(p.drafts().size());
                    List<InjectionFlag> docFlags = flags.get(k);
                    for (int j = 0; j < p.drafts().size(); j++) {
                        Chunker.Draft draft = p.drafts().get(j);
                        chunks.add(new ChunkRecord(tenant, d.docId(), p.version(), j, d.source(), p.title(), draft.section(), draft.body(),
                                p.texts().get(j), embedder.modelId(), now, vectors.get(at++), docFlags.get(j)));
                    }
                    int flagged = scanning() ? (int) docFlags.stream().filter(InjectionFlag::flagged).count() : DocumentRecord.NOT_SCANNED;
                    index.replace(new DocumentRecord(tenant, d.docId(), p.version(), d.source(), p.title(), d.format().mediaType(),
                            d.content().length, chunks.size(), now, d.modifiedAtMillis(), d.metadata(), flagged), chunks);
                    embedder.keepDocument(tenant, d.docId(), p.texts(), chunks.stream().map(ChunkRecord::vector).toList());
                    outcomes[slots.get(k)] = new DocumentOutcome(d.docId(), d.source(),
                            p.existed() ? DocumentOutcome.Status.UPDATED : DocumentOutcome.Status.ADDED, chunks.size(), p.version(), null,
                            DocumentOutcome.ErrorKind.NONE, Math.max(0, flagged));
                }
                span.attr("documents", prepared.size()).attr("chunks", all.size());
            }
        }
        return List.of(outcomes);
    }

    private boolean scanning() {
        return guard.config().enabled() && guard.config().indirect().scan();
    }

    /**
     * Each prepared document's chunk flags, in order: a chunk whose text the document's previous
     * version had keeps that score (judged by today's threshold), any other is scored by the guard.
     * All {@link InjectionFlag#NOT_SCANNED} when the scan is off. The span holds counts only, never text.
     */
    private List<List<InjectionFlag>> scan(String tenant, List<Prepared> prepared, Trace trace) {
        List<List<InjectionFlag>> out = new ArrayList<>(prepared.size());
        if (!scanning()) {
            for (Prepared p : prepared) out.add(java.util.Collections.nCopies(p.texts().size(), InjectionFlag.NOT_SCANNED));
            return out;
        }
        double threshold = guard.config().indirect().threshold();
        int scored = 0, kept = 0, flagged = 0;
        try (Span span = trace.span("scan")) {
            for (Prepared p : prepared) {
                java.util.Map<String, Double> previous = new java.util.HashMap<>();
                if (p.existed()) {
                    for (ChunkRecord c : index.chunks(tenant, p.source().docId())) {
                        if (c.injection().scanned()) previous.put(ChunkRecord.indexText(c.title(), c.sectionPath(), c.body()), c.injection().score());
                    }
                }
                List<InjectionFlag> flags = new ArrayList<>(p.texts().size());
                for (String text : p.texts()) {
                    Double score = previous.get(text);
                    if (score == null) {
                        score = guard.injectionScore(text);
                        scored++;
                    } else {
                        kept++;
                    }
                    InjectionFlag flag = InjectionFlag.scanned(score, threshold);
                    if (flag.flagged()) flagged++;
                    flags.add(flag);
                }
                out.add(flags);
            }
            span.attr("chunks", scored + kept).attr("scored", scored).attr("kept", kept).attr("flagged", flagged);
        }
        return out;
    }

    private List<float[]> embed(String tenant, List<String> texts, Trace trace) {
        List<float[]> vectors = new ArrayList<>(texts.size());
        try (Span span = trace.span("embed")) {
            for (int from = 0; from < texts.size(); from += batchChunks) {
                vectors.addAll(embedder.embedChunks(tenant, texts.subList(from, Math.min(texts.size(), from + batchChunks))));
            }
            span.attr("texts", texts.size()).attr("model", embedder.modelId());
        }
        return vectors;
    }

    /** The title within {@code max} characters: a longer one is cut (never inside a surrogate pair) and ends with "…". */
    static String shortened(String title, int max) {
        if (title.length() <= max) return title;
        int end = max - 1;
        if (Character.isHighSurrogate(title.charAt(end - 1))) end--;
        return title.substring(0, end).stripTrailing() + "…";
    }

    /** What BM25 and the embedder see (see {@link ChunkRecord#indexText}). */
    public static String indexText(String title, List<String> section, String body) {
        return ChunkRecord.indexText(title, section, body);
    }

    private static void walk(Path root, List<Path> files, java.util.Map<String, Integer> skipped) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(root) && dir.getFileName().toString().startsWith(".") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String name = file.getFileName().toString();
                    if (name.startsWith(".") || !attrs.isRegularFile()) return FileVisitResult.CONTINUE;
                    if (DocumentFormat.ofFileName(name).isPresent()) {
                        files.add(file);
                    } else {
                        int dot = name.lastIndexOf('.');
                        skipped.merge(dot < 0 ? "(no extension)" : name.substring(dot).toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        files.sort(null);
    }
}
