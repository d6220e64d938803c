package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.config.AgentConfig;
import dev.keel.config.AgentConfig.McpServer;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.model.JsonSchemas;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The MCP servers of {@code agents.mcp_servers}, connected at startup (in parallel, each within its
 * {@code timeout_ms}), and their tools as {@link Tool}s named {@code <server>_<tool>}. A tool is
 * {@link SideEffect#READ} (and idempotent) only when {@code keel.yaml} lists it in its server's {@code read_tools},
 * else a non-idempotent {@code WRITE}: a server's own annotations ({@code readOnlyHint}, {@code idempotentHint}) are
 * claims of the party being guarded against, so they never skip a confirmation nor allow a resend after a crash, as
 * the MCP specification asks of clients. Every tool of a server needs the server's {@code scopes}.
 *
 * <p>What it never does: let a server stop Keel from starting (a server that is down, slow or lying at startup is
 * logged and its tools are absent), offer a tool whose name a provider would refuse or that another tool already has,
 * or whose input schema {@link JsonSchemas} cannot compile (each skipped with a warning), pass Keel's own environment
 * to a stdio server (it gets its configured {@code env} plus the SDK's non-secret defaults: PATH, HOME, USER, LOGNAME,
 * SHELL, TERM), log header values, wait past a tool's timeout, or hand a model more than {@link ToolOutcome#MAX_RESULT_CHARS} of
 * a result. A call to a server that died or answers with an error is a {@link ToolOutcome.Failure}, and a session that
 * broke is reopened by a later call. Thread-safe;
 * {@link #close()} ends the sessions and stops the stdio subprocesses.
 */
public final class McpTools implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(McpTools.class);
    /** What one MCP message may bring into memory: far above a useful result, far below what hurts the heap. */
    static final int MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
    /** What of a result reaches the model: about 8k tokens, a fair share of a 50k-token run budget. */
    /** An error text is read by a model as a reason, not as data: a few sentences are enough. */
    static final int MAX_ERROR_CHARS = 500;
    /** A server listing thousands of tools would flood every prompt that offers them. */
    static final int MAX_TOOLS_PER_SERVER = 128;
    /** Tool lists come in pages; a server that never ends its cursor chain is cut here. */
    private static final int MAX_PAGES = 16;
    /** Descriptions go into every prompt that offers the tool. */
    static final int MAX_DESCRIPTION_CHARS = 1_024;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A live server answers a ping at once; a session whose transport broke never does. */
    private static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
    /** A broken session is reopened by a call at most this often, so calls to a server that stays down fail at once in between. */
    private static final Duration REOPEN_INTERVAL = Duration.ofSeconds(10);

    /** What of a dead stdio server's stderr is logged: enough for its last error message, not a dump of what it printed. */
    static final int STDERR_TAIL_LINES = 20, STDERR_TAIL_CHARS = 2_048;
    /** Env values shorter than this are flags and names ("1", "dev"), not secrets; blanking them would garble the log. */
    private static final int MIN_SECRET_CHARS = 4;
    /** How long a dead stdio server's stderr may stay open (held by a process it started) before its tail is logged anyway. */
    private static final Duration STDERR_SETTLE = Duration.ofSeconds(1);
    private static final java.lang.reflect.Field PROCESS = sdkField("process"), ERROR_SCHEDULER = sdkField("errorScheduler");

    private final List<Session> sessions;
    private final List<Tool> tools;

    private final Set<String> down;

    private McpTools(List<Session> sessions, List<Tool> tools, Set<String> down) {
        this.sessions = List.copyOf(sessions);
        this.tools = List.copyOf(tools);
        this.down = Set.copyOf(down);
    }

    /** Connects the servers of {@code agents}; their tools may not take a built-in tool's name nor an HTTP tool's. */
    public static McpTools connect(AgentConfig agents) {
        Set<String> reserved = new HashSet<>(AgentConfig.BUILT_IN_TOOLS);
        agents.httpTools().forEach(t -> reserved.add(t.name()));
        McpTools connected = connect(agents.mcpServers(), reserved);
        connected.agentsMissingTools(agents).forEach(LOG::warn);
        return connected;
    }

    /**
     * One sentence per agent of {@code agents} that names tools of an MCP server that this connection does not offer
     * (the server is down, or does not list them), saying which and why; none when every agent has all its tools.
     * Keel logs them at startup, so an agent running without a tool it was given is never silent.
     */
    List<String> agentsMissingTools(AgentConfig agents) {
        Set<String> offered = new HashSet<>();
        tools.forEach(t -> offered.add(t.spec().name()));
        List<String> out = new ArrayList<>();
        agents.definitions().values().stream().sorted(java.util.Comparator.comparing(AgentConfig.Definition::name)).forEach(agent -> {
            List<String> lost = new ArrayList<>();
            for (String tool : agent.tools()) {
                if (offered.contains(tool)) continue;
                agents.mcpServers().stream().filter(s -> tool.startsWith(s.name() + "_")).findFirst().ifPresent(server ->
                        lost.add(tool + (down.contains(server.name()) ? " (MCP server '" + server.name() + "' is unavailable)"
                                : " (MCP server '" + server.name() + "' does not offer it)")));
            }
            if (!lost.isEmpty()) out.add("agent '" + agent.name() + "' runs without " + String.join(", ", lost) + " until Keel restarts");
        });
        return out;
    }

    /** Connects {@code servers} in parallel; a tool whose name is in {@code reserved} is skipped. Never throws for a server's fault. */
    public static McpTools connect(List<McpServer> servers, Set<String> reserved) {
        List<Session> sessions = new ArrayList<>();
        List<Tool> tools = new ArrayList<>();
        Set<String> taken = new HashSet<>(reserved);
        Set<String> down = new HashSet<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Connected>> pending = servers.stream().map(s -> pool.submit(() -> open(s))).toList();
            for (int i = 0; i < servers.size(); i++) {
                McpServer server = servers.get(i);
                try {
                    // open() bounds each step by the server's timeout; this bound only guards against a step that ignores it.
                    Connected c = pending.get(i).get(3L * server.timeoutMs() + 1_000, TimeUnit.MILLISECONDS);
                    Session session = new Session(server, c.client());
                    sessions.add(session);
                    tools.addAll(wrap(server, c.tools(), session, taken));
                } catch (Exception e) {
                    pending.get(i).cancel(true);
                    down.add(server.name());
                    LOG.warn("MCP server '{}' ({}) is unavailable; its tools are absent until Keel restarts: {}", server.name(), where(server),
                            reason(e));
                }
            }
        }
        return new McpTools(sessions, tools, down);
    }

    private static java.lang.reflect.Field sdkField(String name) {
        try {
            java.lang.reflect.Field f = StdioClientTransport.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("the MCP SDK's stdio transport changed: no field " + name, e);
        }
    }

    /** Every tool of every connected server, in the order of the configuration and of each server's list. */
    public List<Tool> tools() {
        return tools;
    }

    @Override
    public void close() {
        sessions.forEach(Session::close);
    }

    private static void close(McpAsyncClient client) {
        try {
            client.closeGracefully().block(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            client.close();
        }
    }

    /**
     * The session with one server. A call that times out or breaks on the transport makes it suspect: a ping tells a
     * slow tool (the server still answers) from a broken session (a dead process, a transport that gave up on an
     * oversized message), which the next call reopens (a new subprocess for stdio), at most once per {@link #REOPEN_INTERVAL}.
     */
    private static final class Session {
        private final McpServer server;
        private McpAsyncClient client;
        private boolean broken;
        private long lastReopenNanos;
        private boolean closed;

        Session(McpServer server, McpAsyncClient client) {
            this.server = server;
            this.client = client;
            this.lastReopenNanos = System.nanoTime() - REOPEN_INTERVAL.toNanos();
        }

        /** The live client; null while the session is broken and may not be reopened yet (or reopening failed). */
        synchronized McpAsyncClient client() {
            if (closed) return null;
            if (!broken) return client;
            if (System.nanoTime() - lastReopenNanos < REOPEN_INTERVAL.toNanos()) return null;
            lastReopenNanos = System.nanoTime();
            McpTools.close(client);
            try {
                client = open(server).client();
                broken = false;
                LOG.info("MCP server '{}' reconnected", server.name());
                return client;
            } catch (RuntimeException e) {
                LOG.warn("MCP server '{}' ({}) is still unavailable: {}", server.name(), where(server), reason(e));
                return null;
            }
        }

        /** After a failed call on {@code used}: marks the session broken unless the server still answers a ping. */
        void suspect(McpAsyncClient used) {
            try {
                used.ping().block(PING_TIMEOUT);
            } catch (RuntimeException e) {
                synchronized (this) {
                    if (client == used && !broken) {
                        broken = true;
                        LOG.warn("MCP server '{}' stopped answering; the next call reconnects", server.name());
                    }
                }
            }
        }

        synchronized void close() {
            closed = true;
            McpTools.close(client);
        }
    }

    private record Connected(McpAsyncClient client, List<McpSchema.Tool> tools) {}

    private static Connected open(McpServer server) {
        Duration timeout = Duration.ofMillis(server.timeoutMs());
        McpClientTransport transport = server.stdio() ? new WatchedStdio(server) : http(server);
        McpAsyncClient client = McpClient.async(transport).requestTimeout(timeout)
                .initializationTimeout(timeout).clientInfo(new McpSchema.Implementation(McpServing.NAME, McpServing.VERSION)).build();
        try {
            Mono<McpSchema.InitializeResult> initialized = client.initialize();
            if (transport instanceof WatchedStdio watched) initialized = Mono.firstWithSignal(initialized, watched.exit(server));
            initialized.block(timeout);
            List<McpSchema.Tool> listed = new ArrayList<>();
            String cursor = null;
            for (int page = 0; page < MAX_PAGES && listed.size() < MAX_TOOLS_PER_SERVER; page++) {
                McpSchema.ListToolsResult r = client.listTools(cursor).block(timeout);
                if (r == null || r.tools() == null) break;
                listed.addAll(r.tools());
                cursor = r.nextCursor();
                if (cursor == null || cursor.isEmpty()) break;
            }
            if (listed.size() > MAX_TOOLS_PER_SERVER) {
                LOG.warn("MCP server '{}' lists more than {} tools; only the first {} are used", server.name(), MAX_TOOLS_PER_SERVER, MAX_TOOLS_PER_SERVER);
                listed = listed.subList(0, MAX_TOOLS_PER_SERVER);
            }
            return new Connected(client, listed);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * A stdio server's transport that sees its process end: a server that exits before it answers fails at once,
     * with its exit code and the last lines of its stderr logged (at most {@link #STDERR_TAIL_LINES} lines,
     * {@link #STDERR_TAIL_CHARS} characters, the configured {@code env} values blanked out: a child may print its
     * secrets), instead of waiting out {@code timeout_ms}. The process gets only the configured {@code env} plus the
     * SDK's non-secret defaults, never Keel's environment.
     *
     * <p>Keel reads the process's stderr itself: the SDK stops reading it as soon as stdout ends, so the lines a
     * failing server prints just before it exits, the ones that say why, would be lost. The SDK's process and
     * stderr scheduler are private; they are reached by reflection, checked at class load.
     */
    private static final class WatchedStdio extends StdioClientTransport {
        private final CompletableFuture<Integer> exited = new CompletableFuture<>();
        private final Deque<String> tail = new ArrayDeque<>();
        private final McpServer server;
        private boolean stderrEnded;

        WatchedStdio(McpServer server) {
            super(parameters(server), McpServing.JSON, MAX_MESSAGE_BYTES);
            this.server = server;
            try {
                ((Scheduler) ERROR_SCHEDULER.get(this)).dispose();
                ERROR_SCHEDULER.set(this, Schedulers.fromExecutor(sdkStderrReader -> {}));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("the MCP SDK's stdio transport changed", e);
            }
        }

        private static ServerParameters parameters(McpServer server) {
            List<String> command = server.command();
            return ServerParameters.builder(command.getFirst()).args(command.subList(1, command.size())).env(server.env()).build();
        }

        @Override
        protected ProcessBuilder getProcessBuilder() {
            ProcessBuilder b = super.getProcessBuilder();
            b.environment().clear(); // the SDK then adds the parameters' env: the configured one and its safe defaults
            return b;
        }

        @Override
        public Mono<Void> connect(java.util.function.Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
            return super.connect(handler).doOnSuccess(v -> {
                Process process = process();
                Thread.ofVirtual().name("mcp-stderr-" + server.name()).start(() -> readStderr(process.getErrorStream()));
                process.onExit().thenAccept(p -> exited.complete(p.exitValue()));
            });
        }

        private Process process() {
            try {
                return (Process) PROCESS.get(this);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("the MCP SDK's stdio transport changed", e);
            }
        }

        /** Never emits: fails when the process ends, logging how, so a race with initialisation fails it at once. */
        <T> Mono<T> exit(McpServer server) {
            return Mono.fromFuture(exited, true).flatMap(code -> {
                String stderr = endOfStderr();
                LOG.warn("MCP server '{}' ({}) exited with code {} before it answered{}", server.name(), where(server), code,
                        stderr.isEmpty() ? " (its stderr was empty)" : "; the end of its stderr:\n" + stderr);
                return Mono.error(new IllegalStateException("its process exited with code " + code));
            });
        }

        /** Reads stderr to its end, a line at a time, each cut at {@link #MAX_ERROR_CHARS} (a line without an end cannot fill the heap). */
        private void readStderr(java.io.InputStream err) {
            try (java.io.Reader in = new java.io.InputStreamReader(err, java.nio.charset.StandardCharsets.UTF_8)) {
                StringBuilder line = new StringBuilder();
                for (int c = in.read(); c >= 0; c = in.read()) {
                    if (c == '\n') {
                        stderr(line.toString());
                        line.setLength(0);
                    } else if (line.length() < MAX_ERROR_CHARS) {
                        line.append((char) c);
                    }
                }
                if (!line.isEmpty()) stderr(line.toString());
            } catch (java.io.IOException e) {
                LOG.debug("MCP server '{}': stderr unreadable: {}", server.name(), reason(e));
            } finally {
                synchronized (this) {
                    stderrEnded = true;
                    notifyAll();
                }
            }
        }

        private synchronized void stderr(String line) {
            String shown = blanked(line);
            LOG.debug("MCP server '{}' stderr: {}", server.name(), shown);
            tail.addLast(shown);
            while (tail.size() > STDERR_TAIL_LINES) tail.removeFirst();
        }

        /** The last lines of stderr, once read to its end (a grandchild may hold it open: then after {@link #STDERR_SETTLE}). */
        private synchronized String endOfStderr() {
            long end = System.nanoTime() + STDERR_SETTLE.toNanos();
            try {
                for (long left = STDERR_SETTLE.toNanos(); !stderrEnded && left > 0; left = end - System.nanoTime()) wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            StringBuilder out = new StringBuilder();
            for (java.util.Iterator<String> it = tail.descendingIterator(); it.hasNext(); ) {
                String line = "  " + it.next() + "\n";
                if (out.length() + line.length() > STDERR_TAIL_CHARS) break;
                out.insert(0, line);
            }
            return out.toString().stripTrailing();
        }

        /** {@code text} with every configured env value long enough to be a secret replaced by its variable's name. */
        private String blanked(String text) {
            for (Map.Entry<String, String> e : server.env().entrySet()) {
                if (e.getValue() != null && e.getValue().length() >= MIN_SECRET_CHARS) text = text.replace(e.getValue(), "[" + e.getKey() + "]");
            }
            return text;
        }
    }

    private static McpClientTransport http(McpServer server) {
        URI url = server.url();
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        if (url.getRawQuery() != null) path += "?" + url.getRawQuery();
        Map<String, String> headers = server.headers();
        return HttpClientStreamableHttpTransport.builder(url.getScheme() + "://" + url.getRawAuthority()).endpoint(path)
                .connectTimeout(Duration.ofMillis(server.timeoutMs())).maxResponseSize(MAX_MESSAGE_BYTES)
                .httpRequestCustomizer((request, method, uri, body, context) -> headers.forEach(request::header)).build();
    }

    /** The listed tools of {@code server} that Keel can offer, named {@code <server>_<tool>}; each one it cannot is logged and skipped. */
    private static List<Tool> wrap(McpServer server, List<McpSchema.Tool> listedTools, Session session, Set<String> taken) {
        List<Tool> out = new ArrayList<>();
        Set<String> listed = new HashSet<>();
        List<String> claimsReadOnly = new ArrayList<>();
        for (McpSchema.Tool t : listedTools) {
            String name = server.name() + "_" + t.name();
            listed.add(t.name());
            if (t.name() == null || !AgentConfig.NAME.matcher(name).matches()) {
                LOG.warn("MCP server '{}': tool '{}' skipped: '{}' is not a tool name providers accept (1-64 letters, digits, '_' or '-')",
                        server.name(), cut(String.valueOf(t.name()), 80), cut(name, 80));
                continue;
            }
            if (!taken.add(name)) {
                LOG.warn("MCP server '{}': tool '{}' skipped: a tool named '{}' already exists", server.name(), t.name(), name);
                continue;
            }
            ObjectNode parameters;
            try {
                parameters = MAPPER.valueToTree(t.inputSchema());
                if (!parameters.path("type").asText().equals("object")) throw new IllegalArgumentException("its input schema is not of type object");
                JsonSchemas.compile(parameters);
            } catch (IllegalArgumentException | ClassCastException e) {
                LOG.warn("MCP server '{}': tool '{}' skipped: its input schema is not usable ({})", server.name(), t.name(), cut(reason(e), 200));
                taken.remove(name);
                continue;
            }
            boolean reads = server.readTools().contains(t.name());
            if (!reads && t.annotations() != null && Boolean.TRUE.equals(t.annotations().readOnlyHint())) claimsReadOnly.add(t.name());
            String description = t.description() == null || t.description().isBlank() ? "Tool " + t.name() + " of MCP server " + server.name()
                    : cut(t.description(), MAX_DESCRIPTION_CHARS);
            ToolSpec spec = new ToolSpec(name, description, parameters, null, reads ? SideEffect.READ : SideEffect.WRITE, reads,
                    Duration.ofMillis(server.timeoutMs()), Set.copyOf(server.scopes()));
            out.add(new RemoteTool(spec, server.name(), t.name(), session));
        }
        for (String r : server.readTools()) {
            if (!listed.contains(r)) LOG.warn("MCP server '{}' has no tool '{}' (listed in read_tools)", server.name(), r);
        }
        if (!claimsReadOnly.isEmpty()) {
            LOG.info("MCP server '{}' marks {} read-only; not trusted: a tool is a read only when listed in its read_tools", server.name(),
                    cut(String.join(", ", claimsReadOnly), MAX_ERROR_CHARS));
        }
        return out;
    }

    /** One tool of a connected server; {@code remote} is its name there. */
    private record RemoteTool(ToolSpec spec, String server, String remote, Session session) implements Tool {
        @Override
        @SuppressWarnings("unchecked")
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) throws InterruptedException {
            Duration limit = spec.timeout();
            if (invocation.deadline() != null && invocation.deadline().remaining().compareTo(limit) < 0) limit = invocation.deadline().remaining();
            if (limit.isNegative() || limit.isZero()) return new ToolOutcome.Failure("no time left to call " + spec.name(), false);
            McpSchema.CallToolRequest request = new McpSchema.CallToolRequest(remote, MAPPER.convertValue(arguments, Map.class));
            McpAsyncClient client = session.client();
            if (client == null) return new ToolOutcome.Failure("MCP server '" + server + "' is unavailable", true);
            McpSchema.CallToolResult result;
            try {
                result = client.callTool(request).block(limit);
            } catch (McpError e) {
                return new ToolOutcome.Failure("MCP server '" + server + "' refused the call: " + cut(e.getMessage(), MAX_ERROR_CHARS), false);
            } catch (RuntimeException e) {
                if (Thread.interrupted() || e.getCause() instanceof InterruptedException) throw new InterruptedException("MCP call interrupted");
                session.suspect(client);
                if (timedOut(e)) return new ToolOutcome.Failure("MCP server '" + server + "' did not answer within " + limit.toMillis() + " ms", true);
                LOG.warn("MCP server '{}': call of {} failed: {}", server, remote, reason(e));
                return new ToolOutcome.Failure("MCP server '" + server + "' is unavailable", true);
            }
            if (result == null) return new ToolOutcome.Failure("MCP server '" + server + "' sent no result", true);
            return outcome(result);
        }

        @Override
        public String summarize(JsonNode arguments) {
            return "call " + remote + " on MCP server " + server + " with " + cut(arguments.toString(), MAX_ERROR_CHARS);
        }
    }

    /** A result as the model reads it: its structured content, else its text; {@code isError} as a failure; at most {@link ToolOutcome#MAX_RESULT_CHARS}. */
    static ToolOutcome outcome(McpSchema.CallToolResult result) {
        JsonNode value = result.structuredContent() != null ? MAPPER.valueToTree(result.structuredContent()) : content(result.content());
        if (Boolean.TRUE.equals(result.isError())) {
            String message = value.isTextual() ? value.asText() : value.toString();
            return new ToolOutcome.Failure(cut(message.isBlank() ? "the tool reported an error" : message, MAX_ERROR_CHARS), false);
        }
        return ToolOutcome.success(ToolOutcome.bounded(value));
    }

    /** One text block as a string; several blocks as an array (text as strings, anything else by its type only). */
    private static JsonNode content(List<McpSchema.Content> blocks) {
        if (blocks == null || blocks.isEmpty()) return TextNode.valueOf("");
        if (blocks.size() == 1 && blocks.getFirst() instanceof McpSchema.TextContent t) return TextNode.valueOf(t.text());
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (McpSchema.Content c : blocks) {
            if (c instanceof McpSchema.TextContent t) out.add(t.text());
            else out.addObject().put("type", c.type()).put("note", "not shown: only text reaches the model");
        }
        return out;
    }

    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException || (t.getMessage() != null && t.getMessage().startsWith("Timeout on blocking read"))) {
                return true;
            }
        }
        return false;
    }

    private static String cut(String s, int max) {
        return ToolOutcome.cut(s, max);
    }

    private static String where(McpServer server) {
        return server.stdio() ? "stdio: " + server.command().getFirst() : server.url().getScheme() + "://" + server.url().getHost() + (server.url().getPort() < 0 ? "" : ":" + server.url().getPort());
    }

    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null ? "" : ": " + cut(m, MAX_ERROR_CHARS));
    }
}
