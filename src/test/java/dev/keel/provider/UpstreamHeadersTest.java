package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.keel.config.ProviderConfig;
import dev.keel.model.CallContext;
import dev.keel.model.Deadline;
import dev.keel.model.Jackson;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.Test;

/** The headers Keel's provider client sends: the {@code Host} Jetty would derive, and never a cookie an earlier reply set. */
class UpstreamHeadersTest {
    @Test
    void theHostHeaderIsWhatJettyWouldDeriveFromTheUri() throws Exception {
        HttpClient jetty = new HttpClient();
        jetty.start();
        try {
            for (String uri : List.of("https://api.openai.com/v1/chat/completions", "http://example.com/v1", "http://127.0.0.1:8080/v1/x?y=1",
                    "http://[::1]:9/x", "http://user:secret@h.example/x", "HTTP://Example.COM/x", "https://h.example:443/x", "http://h.example:80/x",
                    "https://h.example:8443/x", "http://h.example:443/x")) {
                assertThat(ProviderHttp.hostHeader(URI.create(uri))).as(uri).isEqualTo(jetty.newRequest(URI.create(uri)).getURI().getAuthority());
            }
        } finally {
            jetty.stop();
        }
    }

    @Test
    void aCookieOneReplySetIsNotSentWithTheNextRequest() throws Exception {
        List<String> cookies = new CopyOnWriteArrayList<>(), hosts = new CopyOnWriteArrayList<>();
        HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/v1/chat/completions", exchange -> {
            exchange.getRequestBody().readAllBytes();
            cookies.add(String.valueOf(exchange.getRequestHeaders().getFirst("Cookie")));
            hosts.add(exchange.getRequestHeaders().getFirst("Host"));
            byte[] body = "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.getResponseHeaders().add("Set-Cookie", "affinity=tenant-a-backend; Path=/");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
        int port = upstream.getAddress().getPort();
        try (OpenAiChatModel model = new OpenAiChatModel(new ProviderConfig("cookies", ProviderConfig.Type.OPENAI,
                URI.create("http://127.0.0.1:" + port + "/v1"), null, 5, 30, 60, 0, 30, false, false))) {
            ObjectNode request = (ObjectNode) Jackson.mapper().readTree("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            for (int i = 0; i < 2; i++) {
                CallContext call = new CallContext(Deadline.in(Duration.ofSeconds(30)), Duration.ofSeconds(10), Duration.ofSeconds(30), null, id -> {},
                        Map.of(), nanos -> {});
                assertThat(model.complete(request.deepCopy(), call).body().at("/choices/0/message/content").asText()).isEqualTo("ok");
            }
        } finally {
            upstream.stop(0);
        }
        assertThat(cookies).containsExactly("null", "null");
        assertThat(hosts).containsExactly("127.0.0.1:" + port, "127.0.0.1:" + port);
    }
}
