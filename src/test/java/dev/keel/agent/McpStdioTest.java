package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.AgentConfig;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.ingest.IngestListener;
import dev.keel.model.Deadline;
import dev.keel.trace.Traces;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code keel mcp} in a child JVM, as an IDE launches it: the SDK's own client over stdio, Keel attaching it as an MCP
 * server, and a raw look at its stdout, which must carry nothing but protocol messages.
 */
class McpStdioTest {
    /** A child JVM loads the embedding model before it answers; a loaded machine may take a while. */
    private static final Duration START = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path data;

    @BeforeAll
    static void ingest() throws IOException {
        data = Files.createTempDirectory("keel-mcp-stdio-");
        try (Keel keel = Keel.open(KeelConfig.parse("", k -> null), data)) {
            keel.ingestor().ingestPaths("acme", List.of(SampleCorpus.DOCS.resolve("refunds.md"), SampleCorpus.DOCS.resolve("sso-saml.md")), false,
                    keel.traces().start("ingest", "acme"), IngestListener.NONE);
            keel.index().commit();
        }
    }

    @Test
    void theSdkClientSearchesAndAnswersOverStdio() {
        try (McpSyncClient client = client("acme")) {
            client.initialize();
            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly(CorpusTools.SEARCH, CorpusTools.ANSWER);
            JsonNode hits = JSON.valueToTree(client.callTool(new McpSchema.CallToolRequest(CorpusTools.SEARCH, Map.of("query", "refund annual plan")))
                    .structuredContent()).get("hits");
            assertThat(hits.get(0).get("source").asText()).endsWith("refunds.md");
            JsonNode answer = JSON.valueToTree(client.callTool(new McpSchema.CallToolRequest(CorpusTools.ANSWER,
                    Map.of("question", "How long do I have to request a refund on an annual plan?"))).structuredContent());
            assertThat(answer.get("answer").asText()).contains("30 days");
            assertThat(answer.get("citations")).isNotEmpty();
        }
    }

    @Test
    void anotherTenantOnStdioSeesNothing() {
        try (McpSyncClient client = client("globex")) {
            client.initialize();
            JsonNode hits = JSON.valueToTree(client.callTool(new McpSchema.CallToolRequest(CorpusTools.SEARCH, Map.of("query", "refund annual plan")))
                    .structuredContent()).get("hits");
            assertThat(hits).isEmpty();
        }
    }

    @Test
    void keelAttachesKeelMcpAsAStdioServer() throws Exception {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(keelMcp("acme"));
        AgentConfig.McpServer docs = new AgentConfig.McpServer("docs", command, Map.of(), null, Map.of(), List.of(CorpusTools.SEARCH, CorpusTools.ANSWER),
                List.of(), (int) START.toMillis());
        try (McpTools attached = McpTools.connect(List.of(docs), AgentConfig.BUILT_IN_TOOLS)) {
            assertThat(attached.tools()).extracting(t -> t.spec().name()).containsExactly("docs_search_docs", "docs_answer_from_docs");
            assertThat(attached.tools()).allMatch(t -> t.spec().sideEffect() == AgentConfig.SideEffect.READ);
            ToolOutcome outcome = attached.tools().getFirst().call(JSON.readTree("{\"query\":\"SAML single sign-on\",\"k\":2}"),
                    new ToolInvocation(new ChatGateway.Caller("acme", null), "run-1", 1, "run-1:1", Deadline.in(START), new Traces().start("t", "acme")));
            assertThat(((ToolOutcome.Success) outcome).value().get("hits").toString()).contains("sso-saml.md");
        }
    }

    @Test
    void stdoutCarriesNothingButProtocolMessages() throws Exception {
        Process p = keelMcpProcess();
        try (OutputStream in = p.getOutputStream()) {
            in.write(("""
                    {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
                    {"jsonrpc":"2.0","method":"notifications/initialized"}
                    {"jsonrpc":"2.0","id":2,"method":"tools/list"}
                    """).getBytes(StandardCharsets.UTF_8));
            in.flush();
            List<String> lines = new ArrayList<>();
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            while (lines.size() < 2) {
                String line = out.readLine();
                if (line == null) break;
                lines.add(line);
            }
            assertThat(lines).hasSize(2);
            for (String line : lines) assertThat(JSON.readTree(line).get("jsonrpc").asText()).as(line).isEqualTo("2.0");
            assertThat(JSON.readTree(lines.get(1)).at("/result/tools/0/name").asText()).isEqualTo(CorpusTools.SEARCH);
        }
        assertThat(p.waitFor(START.toSeconds(), TimeUnit.SECONDS)).as("keel mcp ends when its stdin closes").isTrue();
        assertThat(p.getInputStream().readAllBytes()).isEmpty();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void everyRequestReadBeforeStdinClosesIsAnswered() throws Exception {
        // The README's printf recipe: stdin closes right after the calls, the last line even without its newline.
        Map<String, JsonNode> responses = byId(session("""
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
                {"jsonrpc":"2.0","method":"notifications/initialized"}
                {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_docs","arguments":{"query":"refund annual plan"}}}
                {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_all_documents","arguments":{}}}
                {"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"answer_from_docs","arguments":{"question":"How long do I have to request a refund on an annual plan?"}}}"""));
        assertThat(responses).containsOnlyKeys("1", "2", "3", "4");
        assertThat(responses.get("1").at("/result/serverInfo/version").asText()).isEqualTo(McpServing.VERSION).isNotEqualTo("keel");
        assertThat(responses.get("2").at("/result/structuredContent/hits/0/source").asText()).endsWith("refunds.md");
        assertThat(responses.get("3").at("/error/message").asText())
                .isEqualTo("no tool named 'delete_all_documents'; the tools are: search_docs, answer_from_docs");
        assertThat(responses.get("4").at("/result/structuredContent/answer").asText()).contains("30 days");
    }

    @Test
    void aLineThatIsNotJsonRpcGetsAnErrorAndTheSessionGoesOnToTheEndOfStdin() throws Exception {
        List<JsonNode> answers = session("""
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
                {"jsonrpc":"2.0","method":"notifications/initialized"}
                not json

                {"jsonrpc":"2.0","id":2,"method":"tools/list"}
                {"jsonrpc":"2.0","id":3,"method":"tools/call"}
                {"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"search_docs","arguments":"x"}}
                null
                {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_docs","arguments":{"query":"refund annual plan"}}}
                """);
        Map<String, JsonNode> responses = byId(answers);
        assertThat(responses).containsOnlyKeys("1", "2", "3", "4", "5");
        assertThat(responses.get("2").at("/result/tools/0/name").asText()).isEqualTo(CorpusTools.SEARCH);
        assertThat(responses.get("3").at("/error/code").asInt()).isEqualTo(McpServing.Refusal.INVALID_PARAMS);
        assertThat(responses.get("4").at("/error/message").asText()).contains("\"params.arguments\" must be an object");
        assertThat(responses.get("5").at("/result/structuredContent/hits/0/source").asText()).endsWith("refunds.md");
        assertThat(answers).filteredOn(m -> m.get("id").isNull()).extracting(m -> m.at("/error/code").asInt())
                .containsExactly(McpServing.Refusal.PARSE_ERROR, McpServing.Refusal.INVALID_REQUEST);
    }

    /** Every message {@code keel mcp} wrote to stdout for {@code stdin}, closed after it; the process must end on its own, with 0. */
    private static List<JsonNode> session(String stdin) throws Exception {
        Process p = keelMcpProcess();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(p.waitFor(START.toSeconds(), TimeUnit.SECONDS)).as("keel mcp ends at the end of stdin").isTrue();
        assertThat(p.exitValue()).isZero();
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) out.add(JSON.readTree(line));
        return out;
    }

    /** The responses among {@code messages}, by their id. */
    private static Map<String, JsonNode> byId(List<JsonNode> messages) {
        Map<String, JsonNode> out = new java.util.TreeMap<>();
        for (JsonNode m : messages) if (!m.get("id").isNull()) out.put(m.get("id").asText(), m);
        return out;
    }

    @Test
    void aBadTenantIsRefusedNamingTheOption() throws Exception {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(keelMcp("no spaces allowed"));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        assertThat(p.waitFor(START.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(err).contains("--tenant").doesNotContain("\tat ");
        assertThat(p.getInputStream().readAllBytes()).isEmpty();
    }

    /** The SDK's client of a {@code keel mcp} it launches for {@code tenant}. */
    private static McpSyncClient client(String tenant) {
        ServerParameters command = ServerParameters.builder(java()).args(keelMcp(tenant)).build();
        return McpClient.sync(new StdioClientTransport(command, McpServing.JSON)).requestTimeout(START).initializationTimeout(START).build();
    }

    /** {@code keel mcp} for acme in a child JVM, its stderr (the logs) discarded. */
    private static Process keelMcpProcess() throws IOException {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(keelMcp("acme"));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** {@code keel mcp} over a copy of the ingested data directory of its own: a child still closing holds its index's lock. */
    private static List<String> keelMcp(String tenant) {
        return List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.keel.cli.Main", "mcp", "--data", copyOfData().toString(),
                "--tenant", tenant);
    }

    private static Path copyOfData() {
        try {
            Path copy = Files.createTempDirectory("keel-mcp-stdio-copy-");
            try (var files = Files.walk(data)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path target = copy.resolve(data.relativize(f).toString());
                    if (Files.isDirectory(f)) Files.createDirectories(target);
                    else Files.copy(f, target);
                }
            }
            return copy;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
