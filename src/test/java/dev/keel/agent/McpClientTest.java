package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.AgentConfig;
import dev.keel.config.AgentConfig.McpServer;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.config.KeelConfig;
import dev.keel.engines.Await;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.Deadline;
import dev.keel.trace.Traces;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keel as an MCP client of servers that misbehave ({@link MisbehavingMcpServer}, a child JVM on stdio) or are not
 * there at all: what joins the registry, with which side effect, and how each failure reaches the model.
 */
class McpClientTest {
    /** Generous: the child JVM must start and answer initialize within it on a loaded machine; calls that should fail fast use a deadline. */
    private static final int TIMEOUT_MS = 60_000;
    /** A timeout no test waits out: a server that fails must fail long before it. */
    private static final int NEVER_MS = 600_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Traces TRACES = new Traces();
    private static McpTools tools;

    @BeforeAll
    static void connect() {
        tools = McpTools.connect(List.of(misbehaving("odd", List.of("listed_read"), Map.of("MCP_GREETING", "hello"))), AgentConfig.BUILT_IN_TOOLS);
    }

    @AfterAll
    static void close() {
        tools.close();
    }

    @Test
    void offersEveryUsableToolAsServerUnderscoreTool() {
        assertThat(tools.tools()).extracting(t -> t.spec().name()).containsExactly("odd_lookup", "odd_listed_read", "odd_wire_money", "odd_delete_everything",
                "odd_hang", "odd_fail", "odd_huge", "odd_flood", "odd_structured", "odd_env", "odd_pid", "odd_die");
    }

    @Test
    void skipsToolsWithNamesProvidersRefuseOrSchemasThatCannotBeCompiled() {
        assertThat(tools.tools()).extracting(t -> t.spec().name()).noneMatch(n -> n.contains("bad") || n.contains("remote_ref") || n.contains("not_an_object"));
    }

    @Test
    void aToolIsReadOnlyWhenListedInReadTools() {
        assertThat(tool("odd_listed_read").spec().sideEffect()).isEqualTo(SideEffect.READ);
        assertThat(tool("odd_listed_read").spec().idempotent()).isTrue();
    }

    @Test
    void aServersReadOnlyAndIdempotentHintsAreNotTrusted() {
        // wire_money is annotated readOnlyHint and idempotentHint by the server; only keel.yaml's read_tools makes a read.
        Tool wire = tool("odd_wire_money");
        assertThat(wire.spec().sideEffect()).isEqualTo(SideEffect.WRITE);
        assertThat(wire.spec().idempotent()).as("never resent after a crash on the server's word").isFalse();
        assertThat(tool("odd_lookup").spec().sideEffect()).isEqualTo(SideEffect.WRITE);
        AgentConfig.Definition agent = KeelConfig.parse("agents: {definitions: {payer: {model: chat, tools: [odd_wire_money]}}}\n", k -> null).agents()
                .definitions().get("payer");
        assertThat(agent.needsConfirmation(wire.spec().name(), wire.spec().sideEffect())).isTrue();
    }

    @Test
    void aToolNotAnnotatedReadOnlyIsAWriteThatNeedsConfirmation() {
        assertThat(tool("odd_delete_everything").spec().sideEffect()).isEqualTo(SideEffect.WRITE);
        assertThat(tool("odd_delete_everything").spec().idempotent()).isFalse();
    }

    @Test
    void theServersSchemaBecomesTheToolsParameters() {
        assertThat(tool("odd_lookup").spec().parameters().at("/properties/q/type").asText()).isEqualTo("string");
    }

    @Test
    void callsReturnTheServersText() throws Exception {
        ToolOutcome outcome = tool("odd_lookup").call(JSON.readTree("{\"q\":\"order 42\"}"), invocation(Duration.ofSeconds(30)));
        assertThat(outcome).isEqualTo(new ToolOutcome.Success(JSON.getNodeFactory().textNode("found order 42")));
    }

    @Test
    void structuredContentIsReturnedAsJson() throws Exception {
        ToolOutcome outcome = tool("odd_structured").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(30)));
        assertThat(((ToolOutcome.Success) outcome).value().get("n").asInt()).isEqualTo(42);
    }

    @Test
    void aHangingToolFailsAtTheDeadlineAndTheNextCallStillWorks() throws Exception {
        ToolOutcome hung = tool("odd_hang").call(JSON.readTree("{}"), invocation(Duration.ofMillis(300)));
        assertThat(hung).isInstanceOf(ToolOutcome.Failure.class);
        assertThat(((ToolOutcome.Failure) hung).message()).contains("did not answer within");
        assertThat(((ToolOutcome.Failure) hung).retryable()).isTrue();
        assertThat(tool("odd_lookup").call(JSON.readTree("{\"q\":\"x\"}"), invocation(Duration.ofSeconds(30)))).isInstanceOf(ToolOutcome.Success.class);
    }

    @Test
    void anIsErrorResultIsAFailureWithTheServersMessage() throws Exception {
        ToolOutcome outcome = tool("odd_fail").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(30)));
        assertThat(outcome).isEqualTo(new ToolOutcome.Failure("the flux capacitor is offline", false));
    }

    @Test
    void aHugeResultIsCutBeforeItReachesTheModel() throws Exception {
        ToolOutcome outcome = tool("odd_huge").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(30)));
        String text = ((ToolOutcome.Success) outcome).value().asText();
        assertThat(text.length()).isLessThan(ToolOutcome.MAX_RESULT_CHARS + 100);
        assertThat(text).endsWith("[cut: " + (MisbehavingMcpServer.HUGE_CHARS - ToolOutcome.MAX_RESULT_CHARS) + " more characters]");
    }

    @Test
    void aMessageOverTheTransportLimitIsRefusedAndTheNextCallReconnects() throws Exception {
        assertThat(tool("odd_flood").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(5)))).isInstanceOf(ToolOutcome.Failure.class);
        assertThat(tool("odd_lookup").call(JSON.readTree("{\"q\":\"y\"}"), invocation(Duration.ofSeconds(60)))).isInstanceOf(ToolOutcome.Success.class);
    }

    @Test
    void aStdioServerGetsItsConfiguredEnvironmentAndNotKeels() throws Exception {
        String names = ((ToolOutcome.Success) tool("odd_env").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(30)))).value().asText();
        Set<String> seen = new HashSet<>(Arrays.asList(names.split(",")));
        assertThat(seen).contains("MCP_GREETING");
        assertThat(Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "MCP_GREETING")).containsAll(seen);
        assertThat(System.getenv()).containsKey("JAVA_HOME"); // the test's own environment has more than the child got
        assertThat(seen).doesNotContain("JAVA_HOME");
    }

    @Test
    void aServerThatDiesMidSessionFailsTheCallAndIsRestartedForTheNext() throws Exception {
        try (McpTools dying = McpTools.connect(List.of(misbehaving("dying", List.of(), Map.of())), Set.of())) {
            long before = pid(dying, "dying_pid");
            // The SDK does not fail a call in flight when the process exits: it fails at its deadline.
            ToolOutcome died = named(dying, "dying_die").call(JSON.readTree("{}"), invocation(Duration.ofSeconds(2)));
            assertThat(died).isInstanceOf(ToolOutcome.Failure.class);
            assertThat(((ToolOutcome.Failure) died).retryable()).isTrue();
            assertThat(pid(dying, "dying_pid")).as("a new subprocess").isNotEqualTo(before);
        }
    }

    @Test
    void serversThatAreDownAtStartupAreSkippedAndTheOthersStillJoin() {
        McpServer refused = new McpServer("refused", List.of(), Map.of(), URI.create("http://127.0.0.1:9/mcp"), Map.of("Authorization", "Bearer s3cret"),
                List.of(), List.of(), 2_000);
        McpServer missing = new McpServer("missing", List.of("/nonexistent/mcp-server"), Map.of(), null, Map.of(), List.of(), List.of(), 2_000);
        McpServer silent = new McpServer("silent", List.of("sleep", "600"), Map.of(), null, Map.of(), List.of(), List.of(), 1_000);
        try (McpTools some = McpTools.connect(List.of(refused, missing, silent, misbehaving("alive", List.of(), Map.of())), Set.of())) {
            assertThat(some.tools()).extracting(t -> t.spec().name()).allMatch(n -> n.startsWith("alive_")).contains("alive_lookup");
        }
        Await.until(Duration.ofSeconds(30), "the silent server's process is stopped", () -> children("sleep").isEmpty());
    }

    @Test
    void aToolMayNotTakeTheNameOfAnotherTool() {
        try (McpTools clashing = McpTools.connect(List.of(misbehaving("odd", List.of(), Map.of())), Set.of("odd_lookup"))) {
            assertThat(clashing.tools()).extracting(t -> t.spec().name()).doesNotContain("odd_lookup").contains("odd_listed_read");
        }
    }

    @Test
    void closeStopsTheStdioSubprocess() throws Exception {
        McpTools own = McpTools.connect(List.of(misbehaving("own", List.of(), Map.of())), Set.of());
        long child = pid(own, "own_pid");
        assertThat(ProcessHandle.of(child)).isPresent();
        own.close();
        Await.until(Duration.ofSeconds(30), "the server process is gone", () -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void mcpServersFromKeelYamlConnectThroughTheAgentsSection() {
        AgentConfig agents = KeelConfig.parse("""
                agents:
                  mcp_servers:
                    - name: nowhere
                      url: http://127.0.0.1:9/mcp
                      timeout_ms: 1000
                """, k -> null).agents();
        try (McpTools none = McpTools.connect(agents)) {
            assertThat(none.tools()).isEmpty();
        }
    }

    @Test
    void aStdioServerThatExitsAtOnceFailsAtOnceWithItsExitCodeAndStderrButNoEnvValue() {
        McpServer quitter = new McpServer("quitter", List.of("/bin/sh", "-c",
                "echo starting >&2; echo \"using token $API_TOKEN\" >&2; echo 'error: DATABASE_URL is not set' >&2; exit 2"),
                Map.of("API_TOKEN", "sk-live-0123456789"), null, Map.of(), List.of(), List.of(), NEVER_MS);
        List<String> log = logged(() -> {
            try (McpTools none = McpTools.connect(List.of(quitter), Set.of())) {
                assertThat(none.tools()).isEmpty();
            }
        });
        assertThat(String.join("\n", log)).contains("'quitter'", "exited with code 2", "error: DATABASE_URL is not set", "using token [API_TOKEN]")
                .doesNotContain("sk-live-0123456789");
    }

    @Test
    void aDeadServersStderrIsLoggedOnlyByItsLastLines() {
        McpServer chatty = new McpServer("chatty", List.of("/bin/sh", "-c", "for i in $(seq 1 500); do echo \"line $i of the log\" >&2; done; exit 3"),
                Map.of(), null, Map.of(), List.of(), List.of(), NEVER_MS);
        String exit = logged(() -> McpTools.connect(List.of(chatty), Set.of()).close()).stream().filter(l -> l.contains("exited with code 3"))
                .findFirst().orElseThrow();
        String stderr = exit.substring(exit.indexOf('\n') + 1);
        assertThat(stderr).contains("line 500 of the log").doesNotContain("line 1 of the log");
        assertThat(stderr.lines().count()).isLessThanOrEqualTo(McpTools.STDERR_TAIL_LINES);
        assertThat(stderr.length()).isLessThanOrEqualTo(McpTools.STDERR_TAIL_CHARS);
    }

    @Test
    void eachAgentThatLostToolsToADownServerIsNamedAtStartup() {
        AgentConfig agents = KeelConfig.parse("""
                agents:
                  mcp_servers:
                    - {name: crm, url: "http://127.0.0.1:9/mcp", timeout_ms: 1000}
                  definitions:
                    support: {model: chat, tools: [search_docs, crm_lookup, crm_update]}
                    math: {model: chat, tools: [calculator]}
                """, k -> null).agents();
        List<String> log = logged(() -> McpTools.connect(agents).close());
        assertThat(log).contains("agent 'support' runs without crm_lookup (MCP server 'crm' is unavailable), crm_update (MCP server 'crm' is "
                + "unavailable) until Keel restarts");
        assertThat(log).noneMatch(l -> l.contains("'math'"));
    }

    @Test
    void anAgentNamingAToolItsServerDoesNotOfferIsNamedToo() {
        McpServer odd = misbehaving("odd", List.of(), Map.of());
        AgentConfig.Definition agent = new AgentConfig.Definition("helper", null, null, null, List.of("odd_lookup", "odd_teleport"), false, Set.of(),
                Map.of(), 0, List.of(), null);
        AgentConfig agents = new AgentConfig(AgentConfig.DEFAULTS.defaults(), AgentConfig.DEFAULTS.httpGet(), List.of(), List.of(odd), Map.of("helper", agent), true);
        assertThat(tools.agentsMissingTools(agents)).containsExactly("agent 'helper' runs without odd_teleport (MCP server 'odd' does not offer it) "
                + "until Keel restarts");
    }

    /** The formatted messages {@link McpTools} logs while {@code action} runs. */
    private static List<String> logged(Runnable action) {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(McpTools.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            assertTimeoutPreemptively(Duration.ofMillis(NEVER_MS / 2), action::run, "a dead server fails before its timeout");
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    private static List<ProcessHandle> children(String command) {
        return ProcessHandle.current().descendants().filter(p -> p.info().command().map(c -> c.endsWith("/" + command)).orElse(false)).toList();
    }

    private static Tool tool(String name) {
        return named(tools, name);
    }

    private static Tool named(McpTools from, String name) {
        return from.tools().stream().filter(t -> t.spec().name().equals(name)).findFirst().orElseThrow();
    }

    /** The process id of the server behind {@code from}, as its {@code pid} tool reports it. */
    private static long pid(McpTools from, String tool) throws Exception {
        return Long.parseLong(((ToolOutcome.Success) named(from, tool).call(JSON.readTree("{}"), invocation(Duration.ofSeconds(60)))).value().asText());
    }

    private static ToolInvocation invocation(Duration deadline) {
        return new ToolInvocation(new ChatGateway.Caller("acme", null), "run-1", 1, "run-1:1", Deadline.in(deadline), TRACES.start("tool", "acme"));
    }

    private static McpServer misbehaving(String name, List<String> readTools, Map<String, String> env) {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new McpServer(name, List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), MisbehavingMcpServer.class.getName()),
                env, null, Map.of(), readTools, List.of(), TIMEOUT_MS);
    }
}
