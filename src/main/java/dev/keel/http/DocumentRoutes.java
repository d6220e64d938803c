package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.DocumentOutcome;
import dev.keel.ingest.SourceDocument;
import dev.keel.model.ApiException;
import dev.keel.store.ContentHash;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code /v1/documents}: ingest (JSON or multipart; HttpServer has checked which), list, get with chunks, delete. */
final class DocumentRoutes {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
    private static final int MAX_METADATA = 32;
    /** The one route that takes a {@link #MULTIPART} body (HttpServer refuses it, and any non-JSON body, elsewhere). */
    static final String UPLOAD_PATH = "/v1/documents";
    static final String MULTIPART = "multipart/form-data";
    /** A path or URL; it is stored, and indexed as one term, with every chunk. */
    private static final int MAX_SOURCE_CHARS = 1024;

    private final Keel keel;

    DocumentRoutes(Keel keel) {
        this.keel = keel;
    }

    void register(RoutesConfig routes) {
        routes.post(UPLOAD_PATH, this::create);
        routes.get("/v1/documents", this::list);
        routes.get("/v1/documents/{id}", this::get);
        routes.delete("/v1/documents/{id}", this::delete);
    }

    private void create(Context ctx) throws IOException {
        String tenant = HttpServer.tenant(ctx);
        SourceDocument doc = Json.mediaType(ctx).equals(MULTIPART) ? fromMultipart(ctx) : fromJson(Json.object(ctx.body()));
        DocumentOutcome outcome = keel.ingestor().ingest(tenant, doc, HttpServer.trace(ctx));
        switch (outcome.status()) {
            case FAILED -> throw switch (outcome.errorKind()) {
                case UNSUPPORTED -> new ApiException(415, "invalid_request_error", outcome.error(), "file", "unsupported_document_type");
                case TOO_LARGE -> new ApiException(413, "request_too_large", outcome.error(), "file", "document_too_large");
                default -> new ApiException(422, "invalid_request_error", outcome.error(), "file", "unparsable_document");
            };
            case ADDED -> HttpServer.json(ctx, 201, view(outcome, ctx));
            default -> HttpServer.json(ctx, 200, view(outcome, ctx));
        }
    }

    private SourceDocument fromJson(ObjectNode body) {
        String text = Json.requiredText(body, "text");
        String id = Json.optionalText(body, "id");
        String source = checkedSource(Json.optionalText(body, "source"), "source");
        String formatName = Json.optionalText(body, "format");
        DocumentFormat format;
        if (formatName != null) {
            format = switch (formatName.toLowerCase(Locale.ROOT)) {
                case "markdown", "md" -> DocumentFormat.MARKDOWN;
                case "text", "txt", "plain" -> DocumentFormat.TEXT;
                case "html" -> DocumentFormat.HTML;
                default -> throw ApiException.badRequest("'format' must be one of markdown, text, html (binary formats: upload as multipart)", "format");
            };
        } else {
            format = source == null ? DocumentFormat.MARKDOWN : DocumentFormat.ofFileName(source).orElse(DocumentFormat.MARKDOWN);
            if (format == DocumentFormat.PDF || format == DocumentFormat.DOCX) format = DocumentFormat.TEXT;
        }
        byte[] content = text.getBytes(StandardCharsets.UTF_8);
        String docId = id(id, source, content);
        String name = source != null ? source : docId + "." + (format == DocumentFormat.HTML ? "html" : format == DocumentFormat.TEXT ? "txt" : "md");
        return new SourceDocument(docId, source != null ? source : "api:" + docId, name, format, content, System.currentTimeMillis(),
                metadata(body.get("metadata")), Json.optionalText(body, "title"));
    }

    private SourceDocument fromMultipart(Context ctx) throws IOException {
        UploadedFile file = ctx.uploadedFile("file");
        if (file == null) throw ApiException.badRequest("multipart upload needs a 'file' part", "file");
        String name = file.filename() == null || file.filename().isBlank() ? "upload" : checkedSource(file.filename(), "file");
        DocumentFormat format = DocumentFormat.ofFileName(name)
                .or(() -> DocumentFormat.ofMediaType(file.contentType()))
                .orElseThrow(() -> new ApiException(415, "invalid_request_error", "unsupported document type '"
                        + (name.contains(".") ? name.substring(name.lastIndexOf('.')) : file.contentType()) + "' of " + name
                        + "; supported: " + DocumentFormat.supportedList(), "file", "unsupported_document_type"));
        byte[] content;
        try (InputStream in = file.content()) {
            content = in.readAllBytes();
        }
        String source = checkedSource(ctx.formParam("source"), "source");
        String metadataJson = ctx.formParam("metadata");
        Map<String, String> metadata = metadataJson == null || metadataJson.isBlank() ? Map.of() : metadata(Json.object(metadataJson));
        String docId = id(ctx.formParam("id"), source != null ? source : name, content);
        return new SourceDocument(docId, source != null ? source : name, name, format, content, System.currentTimeMillis(), metadata,
                ctx.formParam("title"));
    }

    private static String checkedSource(String source, String param) {
        if (source != null && source.length() > MAX_SOURCE_CHARS) {
            throw ApiException.badRequest("'" + param + "' names a source longer than " + MAX_SOURCE_CHARS + " characters", param);
        }
        return source;
    }

    private static String id(String requested, String source, byte[] content) {
        if (requested != null) {
            if (!ID.matcher(requested).matches()) throw ApiException.badRequest("'id' must be 1-128 characters of letters, digits and . _ : @ -", "id");
            return requested;
        }
        return "d_" + (source != null ? ContentHash.sha256(source) : ContentHash.sha256(content)).substring(0, 16);
    }

    private static Map<String, String> metadata(JsonNode node) {
        if (node == null || node.isNull()) return Map.of();
        if (!node.isObject()) throw ApiException.badRequest("'metadata' must be an object of string values", "metadata");
        if (node.size() > MAX_METADATA) throw ApiException.badRequest("'metadata' has more than " + MAX_METADATA + " entries", "metadata");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isValueNode()) throw ApiException.badRequest("metadata value '" + e.getKey() + "' must be a string or number", "metadata");
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private void list(Context ctx) {
        int limit = intParam(ctx, "limit", 100, 1, 1000);
        int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE - 1001);
        List<DocumentRecord> docs = keel.index().documents(HttpServer.tenant(ctx), offset, limit + 1);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("object", "list");
        body.put("data", docs.stream().limit(limit).map(DocumentRoutes::view).toList());
        body.put("has_more", docs.size() > limit);
        HttpServer.json(ctx, 200, body);
    }

    private void get(Context ctx) {
        String tenant = HttpServer.tenant(ctx);
        String id = ctx.pathParam("id");
        DocumentRecord doc = keel.index().document(tenant, id).orElseThrow(() -> ApiException.notFound("no document with id '" + id + "'"));
        Map<String, Object> body = view(doc);
        body.put("chunks", keel.index().chunks(tenant, id).stream().map(DocumentRoutes::chunkView).toList());
        HttpServer.json(ctx, 200, body);
    }

    private void delete(Context ctx) {
        String tenant = HttpServer.tenant(ctx);
        String id = ctx.pathParam("id");
        if (!keel.ingestor().delete(tenant, id)) throw ApiException.notFound("no document with id '" + id + "'");
        HttpServer.json(ctx, 200, Map.of("id", id, "object", "document", "deleted", true));
    }

    static Map<String, Object> view(DocumentRecord d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.docId());
        m.put("object", "document");
        m.put("source", d.source());
        m.put("title", d.title());
        m.put("content_type", d.contentType());
        m.put("bytes", d.bytes());
        m.put("chunk_count", d.chunkCount());
        m.put("flagged_chunks", d.scanned() ? d.flaggedChunks() : null);
        m.put("version", d.version());
        m.put("ingested_at", Instant.ofEpochMilli(d.ingestedAtMillis()).toString());
        m.put("modified_at", Instant.ofEpochMilli(d.modifiedAtMillis()).toString());
        m.put("metadata", d.metadata());
        return m;
    }

    private static Map<String, Object> view(DocumentOutcome o, Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", o.docId());
        m.put("object", "document");
        m.put("source", o.source());
        m.put("status", o.status().name().toLowerCase(Locale.ROOT));
        m.put("chunk_count", o.chunks());
        m.put("flagged_chunks", o.flaggedChunks());
        m.put("version", o.version());
        m.put("trace_id", HttpServer.trace(ctx).id());
        return m;
    }

    private static Map<String, Object> chunkView(ChunkRecord c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ordinal", c.ordinal());
        m.put("section", c.section());
        m.put("text", c.body());
        m.put("embed_model", c.embedModel());
        m.put("injection", ApiViews.injection(c.injection()));
        return m;
    }

    static int intParam(Context ctx, String name, int fallback, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null) return fallback;
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) throw ApiException.badRequest("'" + name + "' must be between " + min + " and " + max, name);
            return i;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + name + "' must be an integer", name);
        }
    }
}
