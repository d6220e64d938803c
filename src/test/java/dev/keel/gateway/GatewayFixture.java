package dev.keel.gateway;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.net.ServerSocket;
import java.nio.file.Files;

/** A Keel server whose catalog points at two fake providers and one dead address; shared by the gateway tests. */
final class GatewayFixture implements AutoCloseable {
    static final String KEY = "sk-test-secret-123";
    static final String ADMIN_KEY = "admin-secret-for-tests";
    final FakeLlmServer primary = new FakeLlmServer();
    final FakeLlmServer secondary = new FakeLlmServer();
    final FakeLlmServer flaky = new FakeLlmServer();
    final FakeLlmServer anthropic = new FakeLlmServer();
    final java.util.List<String> webhooks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final com.sun.net.httpserver.HttpServer webhookServer;
    final Keel keel;
    final HttpServer server;
    final String base;

    GatewayFixture() throws Exception {
        this("");
    }

    /** With {@code moreYaml} (top-level sections such as {@code redis:}) added to the configuration. */
    GatewayFixture(String moreYaml) throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        webhookServer = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        webhookServer.createContext("/hook", ex -> {
            webhooks.add(new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        webhookServer.start();
        String yaml = """
                gateway:
                  budget_webhook_url: http://127.0.0.1:%d/hook
                server:
                  port: 0
                  admin_key: %s
                providers:
                  primary:
                    type: openai
                    base_url: %s
                    api_key: %s
                    first_byte_timeout_seconds: 2
                    max_retries: 2
                  secondary:
                    type: openai
                    base_url: %s
                    max_retries: 0
                  flaky:
                    type: openai
                    base_url: %s
                    max_retries: 0
                    breaker_open_seconds: 1
                  claude:
                    type: anthropic
                    base_url: %s
                    api_key: sk-ant-test
                    max_retries: 1
                  offline:
                    type: extractive
                  dead:
                    type: openai
                    base_url: http://127.0.0.1:%d/v1
                    max_retries: 0
                models:
                  fast:
                    targets:
                      - {provider: primary, model: upstream-fast-001, input_per_mtok: 1.0, output_per_mtok: 2.0}
                  resilient:
                    targets:
                      - {provider: primary, model: upstream-a}
                      - {provider: secondary, model: upstream-b}
                  unreachable:
                    targets:
                      - {provider: dead, model: nothing}
                  pricey:
                    supports: stream, json_schema
                    downgrade: fast
                    targets:
                      - {provider: primary, model: upstream-pricey, input_per_mtok: 100, output_per_mtok: 200}
                  tiny:
                    context_window: 64
                    targets:
                      - {provider: primary, model: upstream-tiny}
                  claude-chat:
                    targets:
                      - {provider: claude, model: claude-3-5-haiku-20241022}
                  remote-embed:
                    kind: embedding
                    targets:
                      - {provider: primary, model: text-embedding-3-small, input_per_mtok: 0.02, output_per_mtok: 0}
                  docs-with-fallback:
                    targets:
                      - {provider: dead, model: nothing}
                      - {provider: offline, model: extractive}
                  patient-but-capped:
                    first_byte_timeout_seconds: 1
                    targets:
                      - {provider: secondary, model: upstream-b}
                  guarded:
                    targets:
                      - {provider: flaky, model: flaky-1}
                      - {provider: secondary, model: upstream-b}
                """.formatted(webhookServer.getAddress().getPort(), ADMIN_KEY, primary.baseUrl(), KEY, secondary.baseUrl(), flaky.baseUrl(), anthropic.baseUrl(), deadPort)
                + moreYaml;
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-chat-"));
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    void reset() {
        primary.reset();
        secondary.reset();
        flaky.reset();
        anthropic.reset();
        keel.gateway().resetBreakers();
    }

    @Override
    public void close() {
        server.close();
        keel.close();
        primary.close();
        secondary.close();
        flaky.close();
        anthropic.close();
        webhookServer.stop(0);
    }
}
