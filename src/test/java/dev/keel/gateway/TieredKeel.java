package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/**
 * A Keel over HTTP whose catalog has three router tiers, each on its own fake provider: {@code tier-small} ($0.25 per
 * 1M tokens), {@code tier-medium} ($1.50) and {@code tier-large} ($15), with {@code extraYaml} appended to its keel.yaml.
 */
final class TieredKeel implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ADMIN_KEY = "admin-secret-for-router-tests";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    final FakeLlmServer small = new FakeLlmServer(), medium = new FakeLlmServer(), large = new FakeLlmServer();
    final Keel keel;
    private final HttpServer server;
    private final String base;

    TieredKeel(String extraYaml) throws Exception {
        String yaml = """
                server: {port: 0, admin_key: %s}
                providers:
                  small: {type: openai, base_url: %s, max_retries: 0}
                  medium: {type: openai, base_url: %s, max_retries: 0}
                  large: {type: openai, base_url: %s, max_retries: 0}
                models:
                  tier-small:
                    tier: small
                    targets: [{provider: small, model: s-1, input_per_mtok: 0.25, output_per_mtok: 0.25}]
                  tier-medium:
                    tier: medium
                    targets: [{provider: medium, model: m-1, input_per_mtok: 1.5, output_per_mtok: 1.5}]
                  tier-large:
                    tier: large
                    targets: [{provider: large, model: l-1, input_per_mtok: 15, output_per_mtok: 15}]
                """.formatted(ADMIN_KEY, small.baseUrl(), medium.baseUrl(), large.baseUrl()) + extraYaml;
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-router-"));
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    /** Forgets the fakes' scripts and what they received. */
    void reset() {
        small.reset();
        medium.reset();
        large.reset();
    }

    /** A new client key of {@code tenant}; {@code extra} adds JSON fields (",\"daily_budget_usd\":1"). */
    String key(String tenant, String extra) throws Exception {
        HttpResponse<String> r = send("POST", "/admin/keys", ADMIN_KEY, "{\"name\":\"k\",\"tenant\":\"" + tenant + "\"" + extra + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    HttpResponse<String> send(String method, String path, String bearer, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + bearer);
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String route(HttpResponse<String> r) {
        return r.headers().firstValue("x-keel-route").orElse(null);
    }

    /** The ledger rows of one request, in order: model, route tag, cost, status. */
    List<String> ledger(HttpResponse<String> r) throws Exception {
        keel.ledger().flush();
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + keel.dataDir().resolve("keel.db"));
             PreparedStatement ps = c.prepareStatement("SELECT model, route, cost_usd > 0 FROM ledger WHERE trace_id = ? ORDER BY rowid")) {
            ps.setString(1, r.headers().firstValue("x-keel-trace-id").orElseThrow());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) rows.add(rs.getString(1) + " | " + rs.getString(2) + " | paid=" + rs.getBoolean(3));
            }
        }
        return rows;
    }

    @Override
    public void close() {
        server.close();
        keel.close();
        small.close();
        medium.close();
        large.close();
    }
}
