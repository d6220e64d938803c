package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.engines.KeelProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel serve} asked to stop (SIGTERM, Ctrl-C) finishes closing before the JVM exits: nothing served is lost. */
class GracefulStopTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> chat(String base) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"keel-extractive\",\"messages\":[{\"role\":\"user\",\"content\":\"refunds?\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyRequestAnsweredBeforeAStopIsInTheLedgerAfterIt(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("keel.yaml");
        Files.writeString(config, "guard: {enabled: false}\n");
        Path data = dir.resolve("data");
        int answered = 0;
        try (KeelProcess keel = KeelProcess.start(config, data, Map.of())) {
            for (int i = 0; i < 40; i++) {
                if (chat(keel.baseUrl()).statusCode() == 200) answered++;
            }
        } // SIGTERM right after the last answer: its ledger row is still in the group being committed
        assertThat(answered).isEqualTo(40);
        try (KeelProcess again = KeelProcess.start(config, data, Map.of())) {
            JsonNode usage = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(again.baseUrl() + "/v1/usage?group_by=model")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            long rows = 0;
            for (JsonNode row : usage.path("data")) rows += row.path("requests").asLong();
            assertThat(rows).as(usage.toString()).isEqualTo(40);
        }
    }
}
