package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** {@code GET /v1/evals/online} in open local mode (no key exists): {@code ?tenant=} names the tenant, as X-Keel-Tenant does. */
class OnlineEvalOpenModeHttpTest {
    @Test
    void withoutAnyKeyTheTenantQueryParameterNamesTheTenantRead() throws Exception {
        try (Keel keel = Keel.open(KeelConfig.parse("server: {port: 0}\n", k -> null), Files.createTempDirectory("keel-online-open-"));
             HttpServer server = new HttpServer(keel)) {
            String base = "http://127.0.0.1:" + server.start() + EvalRoutes.ONLINE_PATH;
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "?tenant=other")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(r.body()).get("tenant").asText()).isEqualTo("other");
        }
    }

    @Test
    void aPValueKeepsFourSignificantDigitsInsteadOfRoundingToZero() {
        assertThat(EvalRoutes.significant(3.217849e-9)).isEqualTo(3.218e-9);
        assertThat(EvalRoutes.significant(0.0412345)).isEqualTo(0.04123);
        assertThat(EvalRoutes.significant(null)).isNull();
    }
}
