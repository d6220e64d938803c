package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.AgentConfig;
import dev.keel.config.KeelConfig;
import dev.keel.embed.HashingEmbedder;
import dev.keel.gateway.ChatGateway;
import dev.keel.http.HttpServer;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.SourceDocument;
import dev.keel.model.Deadline;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /mcp} as MCP clients see it, through the SDK's own client over streamable HTTP: a served Keel with API keys,
 * two tenants ({@code acme} holds sample docs, {@code globex} a secret), and the checks every {@code /v1} request passes.
 */
class McpServerTest {
    private static final String ADMIN = "admin-secret-for-mcp-tests";
    private static final String INIT = """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},
             "clientInfo":{"name":"t","version":"1"}}}""";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Keel keel;
    private static HttpServer server;
    private static String base, acmeKey, globexKey;

    @BeforeAll
    static void serve() throws Exception {
        keel = Keel.open(KeelConfig.parse("server: {port: 0, admin_key: " + ADMIN + ", max_body_bytes: 65536}\n", k -> null),
                Files.createTempDirectory("keel-mcp-"));
        keel.ingestor().ingestPaths("acme", List.of(SampleCorpus.DOCS.resolve("refunds.md"), SampleCorpus.DOCS.resolve("api-rate-limits.md")),
                false, keel.traces().start("ingest", "acme"), IngestListener.NONE);
        keel.ingestor().ingest("globex", new SourceDocument("nightingale", "api:nightingale", "nightingale.md", DocumentFormat.MARKDOWN,
                "# Project Nightingale\n\nThe Nightingale refund escrow code is 7741-ALPHA.\n".getBytes(StandardCharsets.UTF_8), 0, Map.of(), null),
                keel.traces().start("ingest", "globex"));
        keel.index().commit();
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
        acmeKey = key("acme");
        globexKey = key("globex");
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
    }

    @Test
    void listsSearchDocsAndAnswerFromDocsWithTheAgentToolsSchemas() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            McpSchema.InitializeResult init = client.initialize();
            assertThat(init.capabilities().tools()).isNotNull();
            List<McpSchema.Tool> tools = client.listTools().tools();
            assertThat(tools).extracting(McpSchema.Tool::name).containsExactly(CorpusTools.SEARCH, CorpusTools.ANSWER);
            Tool search = CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard()).getFirst();
            assertThat(JSON.valueToTree(tools.getFirst().inputSchema()).equals(search.spec().parameters())).isTrue();
            assertThat(tools.getFirst().annotations().readOnlyHint()).isTrue();
        }
    }

    @Test
    void searchDocsReturnsTheTenantsSampleDocsWithCitationIds() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            client.initialize();
            McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest(CorpusTools.SEARCH, Map.of("query", "refund annual plan", "k", 3)));
            assertThat(r.isError()).isNotEqualTo(Boolean.TRUE);
            JsonNode hits = JSON.valueToTree(r.structuredContent()).get("hits");
            assertThat(hits).isNotEmpty().hasSizeLessThanOrEqualTo(3);
            assertThat(hits.get(0).get("source").asText()).endsWith("refunds.md");
            assertThat(hits.get(0).get("citation").asText()).startsWith(hits.get(0).get("doc_id").asText() + "#");
            assertThat(hits.get(0).get("text").asText()).containsIgnoringCase("refund");
        }
    }

    @Test
    void answerFromDocsAnswersWithCitations() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            client.initialize();
            McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest(CorpusTools.ANSWER,
                    Map.of("question", "How long do I have to request a refund on an annual plan?")));
            JsonNode answer = JSON.valueToTree(r.structuredContent());
            assertThat(answer.get("answered").asBoolean()).isTrue();
            assertThat(answer.get("answer").asText()).contains("30 days");
            assertThat(answer.get("citations")).isNotEmpty();
            assertThat(answer.get("citations").get(0).get("source").asText()).endsWith("refunds.md");
        }
    }

    @Test
    void anotherTenantsSearchNeverSeesTheseDocuments() {
        try (McpSyncClient globex = client(globexKey, Map.of()); McpSyncClient acme = client(acmeKey, Map.of())) {
            globex.initialize();
            acme.initialize();
            JsonNode globexHits = search(globex, "refund annual plan");
            assertThat(globexHits.toString()).doesNotContain("refunds.md");
            assertThat(search(acme, "Nightingale refund escrow code").toString()).doesNotContain("7741").doesNotContain("nightingale");
            assertThat(search(globex, "Nightingale refund escrow code").toString()).contains("7741");
        }
    }

    @Test
    void invalidArgumentsAreAToolErrorNamingTheField() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            client.initialize();
            McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest(CorpusTools.SEARCH, Map.of("query", "refunds", "k", 500)));
            assertThat(r.isError()).isTrue();
            assertThat(((McpSchema.TextContent) r.content().getFirst()).text()).startsWith("invalid arguments").contains("k: must have a maximum value of 20");
        }
    }

    @Test
    void answerFromDocsOfAnotherTenantCitesNothingOfThisOne() {
        try (McpSyncClient client = client(globexKey, Map.of())) {
            client.initialize();
            McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest(CorpusTools.ANSWER,
                    Map.of("question", "How long do I have to request a refund on an annual plan?")));
            assertThat(JSON.valueToTree(r.structuredContent()).toString()).doesNotContain("refunds.md").doesNotContain("30 days");
        }
    }

    @Test
    void garbageIsAJsonRpcErrorNotAStackTrace() throws Exception {
        HttpResponse<String> r = post(acmeKey, Map.of(), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":");
        assertThat(r.statusCode()).isBetween(400, 499);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aRequestTheTransportRefusesGetsKeelsErrorShapeAndNoStackTrace() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/mcp")).header("Authorization", "Bearer " + acmeKey)
                .header("Content-Type", "application/json").header("Accept", "application/json").POST(HttpRequest.BodyPublishers.ofString(INIT))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isBetween(400, 499);
        assertThat(r.body()).doesNotContain("stackTrace").doesNotContain("Exception").doesNotContain("io.modelcontextprotocol");
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("invalid_mcp_request");
        assertThat(error.get("message").asText()).contains("text/event-stream");
    }

    @Test
    void anUnknownToolIsAnMcpErrorNamingTheToolsThereAre() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            client.initialize();
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("delete_all_documents", Map.of())))
                    .isInstanceOf(io.modelcontextprotocol.spec.McpError.class)
                    .hasMessageContaining("no tool named 'delete_all_documents'; the tools are: search_docs, answer_from_docs");
        }
    }

    @Test
    void aBodyThatIsNotOneJsonRpcMessageIs400SayingWhatIsWrong() throws Exception {
        Map<String, String> said = Map.of("null", "a message is a JSON-RPC 2.0 object, not null", "[]", "batches are not supported",
                "42", "a message is a JSON-RPC 2.0 object, not a number", "{}", "\"jsonrpc\" must be \"2.0\"",
                "not json", "parse error", "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", "\"id\" must be a string or an integer",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"id\":2}", "parse error");
        for (Map.Entry<String, String> e : said.entrySet()) {
            HttpResponse<String> r = post(acmeKey, Map.of(), e.getKey());
            assertThat(r.statusCode()).as(e.getKey()).isEqualTo(400);
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertThat(error.get("code").asText()).isEqualTo("invalid_mcp_request");
            assertThat(error.get("message").asText()).as(e.getKey()).startsWith("invalid MCP request: ").contains(e.getValue());
        }
    }

    @Test
    void toolsCallWithoutParamsOrWithArgumentsThatAreNotAnObjectIsInvalidParams() throws Exception {
        Map<String, String> said = Map.of(
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\"}", "tools/call needs \"params\": {\"name\"",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":\"x\"}}",
                "\"params.arguments\" must be an object of the tool's arguments by name, not a string",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":[\"search_docs\"]}", "\"params\" must be an object, not an array",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":{},\"_meta\":\"x\"}}",
                "\"params._meta\" has the wrong type",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\"}", "initialize needs \"params\" with \"protocolVersion\"");
        for (Map.Entry<String, String> e : said.entrySet()) {
            HttpResponse<String> r = post(acmeKey, Map.of(), e.getKey());
            assertThat(r.statusCode()).as(e.getKey()).isEqualTo(200);
            JsonNode m = JSON.readTree(r.body());
            assertThat(m.get("id").asInt()).isEqualTo(7);
            assertThat(m.at("/error/code").asInt()).as(e.getKey()).isEqualTo(McpServing.Refusal.INVALID_PARAMS);
            assertThat(m.at("/error/message").asText()).as(e.getKey()).contains(e.getValue());
        }
    }

    @Test
    void noClientMistakeIsA500OrAnErrorInTheLog() throws Exception {
        List<String> mistakes = List.of("null", "[]", "[{}]", "\"s\"", "true", "{}", "", "{\"jsonrpc\":\"2.0\"}", "{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":" + "9".repeat(40) + ",\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":5}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":null}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":7}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":[1]}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":{\"query\":{}}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":\"x\"}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"clientInfo\":[]}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "{\"jsonrpc\":\"2.0\",\"id\":1}",
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":\"x\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + "m".repeat(5_000) + "\",\"params\":1}");
        List<String> logged = new java.util.ArrayList<>();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> warnings = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent event) {
                if (event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)) logged.add(event.getLoggerName() + ": " + event.getFormattedMessage());
            }
        };
        warnings.start();
        root.addAppender(warnings);
        try {
            for (String body : mistakes) {
                HttpResponse<String> r = post(acmeKey, Map.of(), body);
                assertThat(r.statusCode()).as(body).isIn(200, 202, 400);
                assertThat(r.body()).as(body).doesNotContain("Exception").doesNotContain("io.modelcontextprotocol").doesNotContain("java.").doesNotContain("`")
                        .doesNotContain("m".repeat(100));
            }
        } finally {
            root.detachAppender(warnings);
        }
        assertThat(logged).isEmpty();
    }

    @Test
    void serverInfoGivesKeelsVersion() {
        try (McpSyncClient client = client(acmeKey, Map.of())) {
            McpSchema.Implementation info = client.initialize().serverInfo();
            assertThat(info.name()).isEqualTo("keel");
            assertThat(info.version()).isEqualTo(McpServing.VERSION).matches("\\d+\\.\\d+\\.\\d+.*");
        }
    }

    @Test
    void aCallWithoutAKeyIsRefusedOnceKeysExist() throws Exception {
        HttpResponse<String> r = post(null, Map.of(), INIT);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("missing_api_key");
        assertThat(post("sk-keel-not-a-real-key", Map.of(), INIT).statusCode()).isEqualTo(401);
        try (McpSyncClient client = client(null, Map.of())) {
            assertThatThrownBy(client::initialize).isInstanceOf(RuntimeException.class);
        }
    }

    @Test
    void aForeignOriginIsRefusedAgainstDnsRebinding() throws Exception {
        HttpResponse<String> r = post(acmeKey, Map.of("Origin", "http://attacker.example"), INIT);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("jsonrpc");
        try (McpSyncClient client = client(acmeKey, Map.of("Origin", "http://attacker.example"))) {
            assertThatThrownBy(client::initialize).isInstanceOf(RuntimeException.class);
        }
    }

    @Test
    void aBodyOverTheLimitIsRefusedBeforeItIsRead() throws Exception {
        String huge = INIT.replace("\"t\"", "\"" + "x".repeat(70_000) + "\"");
        assertThat(post(acmeKey, Map.of(), huge).statusCode()).isEqualTo(413);
    }

    @Test
    void getIsMethodNotAllowedAsTheStatelessTransportOpensNoStream() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/mcp")).header("Authorization", "Bearer " + acmeKey)
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(405);
    }

    @Test
    void keelAttachesAnotherKeelsMcpEndpointAsDocsTools() throws Exception {
        AgentConfig.McpServer docs = new AgentConfig.McpServer("docs", List.of(), Map.of(), URI.create(base + "/mcp"),
                Map.of("Authorization", "Bearer " + acmeKey), List.of(CorpusTools.SEARCH), List.of(), 30_000);
        try (McpTools attached = McpTools.connect(List.of(docs), AgentConfig.BUILT_IN_TOOLS)) {
            assertThat(attached.tools()).extracting(t -> t.spec().name()).containsExactly("docs_search_docs", "docs_answer_from_docs");
            Tool search = attached.tools().getFirst();
            assertThat(search.spec().sideEffect()).isEqualTo(AgentConfig.SideEffect.READ);
            assertThat(attached.tools().get(1).spec().sideEffect()).as("annotated read-only by Keel, but not in read_tools")
                    .isEqualTo(AgentConfig.SideEffect.WRITE);
            ToolOutcome outcome = search.call(JSON.readTree("{\"query\":\"rate limit per minute\"}"), invocation("somebody-else"));
            assertThat(outcome).isInstanceOf(ToolOutcome.Success.class);
            // The remote Keel answers as the key's tenant, whatever tenant the calling run belongs to.
            assertThat(((ToolOutcome.Success) outcome).value().toString()).contains("api-rate-limits.md");
        }
    }

    @Test
    void anEndpointTurnedOffIsNotFound() throws Exception {
        try (Keel off = Keel.open(KeelConfig.parse("server: {port: 0}\nagents: {mcp_endpoint: false}\n", k -> null),
                Files.createTempDirectory("keel-mcp-off-"), new HashingEmbedder());
             HttpServer offServer = new HttpServer(off)) {
            int port = offServer.start();
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/mcp"))
                    .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(INIT)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(404);
        }
    }

    static ToolInvocation invocation(String tenant) {
        return new ToolInvocation(new ChatGateway.Caller(tenant, null), "run-1", 1, "run-1:1", Deadline.in(Duration.ofSeconds(30)),
                keel.traces().start("tool", tenant));
    }

    private static JsonNode search(McpSyncClient client, String query) {
        return JSON.valueToTree(client.callTool(new McpSchema.CallToolRequest(CorpusTools.SEARCH, Map.of("query", query))).structuredContent()).get("hits");
    }

    private static McpSyncClient client(String bearer, Map<String, String> headers) {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(base).endpoint("/mcp")
                .httpRequestCustomizer((request, method, uri, body, context) -> {
                    if (bearer != null) request.header("Authorization", "Bearer " + bearer);
                    headers.forEach(request::header);
                }).build();
        return McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30)).initializationTimeout(Duration.ofSeconds(30)).build();
    }

    private static HttpResponse<String> post(String bearer, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/mcp")).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String key(String tenant) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/admin/keys")).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + ADMIN).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"k\",\"tenant\":\"" + tenant + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }
}
