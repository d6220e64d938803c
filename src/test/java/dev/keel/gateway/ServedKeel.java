package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Keel server on an ephemeral port from a keel.yaml (its {@code server} line added here, with an
 * admin key), for tests that call it over HTTP with keys they create and read its ledger.
 */
final class ServedKeel implements AutoCloseable {
    static final String ADMIN_KEY = "admin-secret-for-served-keel";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    final Keel keel;
    private final HttpServer server;
    private final String base;

    ServedKeel(String yaml) throws Exception {
        this(yaml, Files.createTempDirectory("keel-served-"));
    }

    /** A Keel over {@code dataDir}: a second one over the same folder is the first restarted. */
    ServedKeel(String yaml, java.nio.file.Path dataDir) throws Exception {
        keel = Keel.open(KeelConfig.parse("server: {port: 0, admin_key: " + ADMIN_KEY + "}\n" + yaml, k -> null), dataDir);
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    /** Ingests the employee handbook of {@link GroundedAnswersTest#HANDBOOK} into {@code tenant}. */
    void ingestHandbook(String tenant) {
        keel.ingestor().ingest(tenant, new SourceDocument("handbook", "api:handbook", "handbook.md", DocumentFormat.MARKDOWN,
                GroundedAnswersTest.HANDBOOK.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null), keel.traces().start("ingest", tenant));
        keel.index().commit();
    }

    /** A new key of {@code tenant}; {@code fields} are more fields of {@code POST /admin/keys}, each after a comma. */
    String key(String tenant, String fields) throws Exception {
        HttpResponse<String> r = post("/admin/keys", ADMIN_KEY, "{\"name\":\"k\",\"tenant\":\"" + tenant + "\"" + fields + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    HttpResponse<String> post(String path, String bearer, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The ledger rows of one trace, in order, as {@code columns} (SQL) joined with " | ". */
    List<String> ledger(String traceId, String columns) throws Exception {
        keel.ledger().flush();
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + keel.dataDir().resolve("keel.db"));
             PreparedStatement ps = c.prepareStatement("SELECT " + columns + " FROM ledger WHERE trace_id = ? ORDER BY rowid")) {
            ps.setString(1, traceId);
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                    rows.add(String.join(" | ", row));
                }
            }
        }
        return rows;
    }

    @Override
    public void close() {
        server.close();
        keel.close();
    }
}
