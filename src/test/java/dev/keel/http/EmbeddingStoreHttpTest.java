package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Only chunk vectors are stored on disk: /v1/embeddings inputs, questions and answer sentences stay in bounded memory. */
class EmbeddingStoreHttpTest extends SampleServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int INPUTS_PER_REQUEST = 250;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Keel keel = SampleCorpus.keel();

    private HttpResponse<String> post(String path, String tenant, ObjectNode body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", tenant)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> embed(String tenant, List<String> inputs) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode input = body.putArray("input");
        inputs.forEach(input::add);
        return post("/v1/embeddings", tenant, body);
    }

    @Test
    void aThousandDistinctEmbeddingInputsAndQuestionsLeaveTheStoredVectorsUnchanged() throws Exception {
        long stored = keel.embedder().storedVectors();
        for (int request = 0; request < 4; request++) {
            int r = request;
            List<String> inputs = IntStream.range(0, INPUTS_PER_REQUEST).mapToObj(i -> "distinct input " + r + "-" + i + " of a client's corpus").toList();
            assertThat(embed("embed-store", inputs).statusCode()).isEqualTo(200);
        }
        for (String question : List.of("How long do refunds take?", "Can I pay by invoice?", "What does the free trial include?", "Is there an SLA?")) {
            assertThat(post("/v1/answer", Keel.DEFAULT_TENANT, JSON.createObjectNode().put("question", question)).statusCode()).isEqualTo(200);
            assertThat(post("/v1/search", Keel.DEFAULT_TENANT, JSON.createObjectNode().put("query", question)).statusCode()).isEqualTo(200);
        }
        assertThat(keel.embedder().storedVectors()).isEqualTo(stored);
    }

    @Test
    void anEmbeddingInputIsReusedForItsTenantButComputedAgainForAnother() throws Exception {
        List<String> input = List.of("A passage tenant one embeds twice and tenant two once.");
        embed("embed-one", input);
        long computed = keel.embedder().computedCount();
        embed("embed-one", input);
        assertThat(keel.embedder().computedCount()).isEqualTo(computed);
        embed("embed-two", input);
        assertThat(keel.embedder().computedCount()).isEqualTo(computed + 1);
    }

    @Test
    void inputsWithNothingToEmbedAre400NamingTheInput() throws Exception {
        for (String nothing : List.of(" ", "\u200b", "\u00ad", "\u0000", "\t\n")) {
            ObjectNode body = JSON.createObjectNode();
            body.putArray("input").add("fine").add(nothing);
            HttpResponse<String> r = post("/v1/embeddings", Keel.DEFAULT_TENANT, body);
            assertThat(r.statusCode()).as(nothing).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("input 1");
        }
        ObjectNode space = JSON.createObjectNode();
        space.putArray("input").addArray().add(220);
        assertThat(post("/v1/embeddings", Keel.DEFAULT_TENANT, space).statusCode()).as("token 220 decodes to a space").isEqualTo(400);
    }
}
