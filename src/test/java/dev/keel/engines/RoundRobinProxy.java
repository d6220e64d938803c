package dev.keel.engines;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load balancer in front of the replicas, as an operator would configure one: each request goes
 * to the next replica in turn; a replica that refuses the connection (stopped or killed) is skipped
 * for that request, which is then sent to the next one — safe because the refused replica never
 * received it, the same rule as nginx's {@code proxy_next_upstream error}. Anything else (a status, a
 * reset mid-response) goes back to the client as it is. Each request opens its own connection, so a
 * refused connection always means the replica never saw the request (a pooled connection to a killed
 * replica would fail after sending, when a retry could no longer be known to be safe). Streams
 * responses through unbuffered.
 */
public final class RoundRobinProxy implements AutoCloseable {
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "host", "transfer-encoding", "upgrade", "keep-alive",
            "expect", "te", "trailer", "proxy-connection");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

    private final List<String> replicas;
    private final AtomicInteger next = new AtomicInteger();
    private final HttpServer server;

    public RoundRobinProxy(List<String> replicaBaseUrls) throws IOException {
        replicas = new CopyOnWriteArrayList<>(replicaBaseUrls);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::forward);
        server.start();
    }

    /** {@code http://127.0.0.1:port} of the balancer. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void forward(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            int start = Math.floorMod(next.getAndIncrement(), replicas.size());
            for (int i = 0; i < replicas.size(); i++) {
                String target = replicas.get((start + i) % replicas.size()) + exchange.getRequestURI();
                HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target)).timeout(REQUEST_TIMEOUT)
                        .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                exchange.getRequestHeaders().forEach((name, values) -> {
                    if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT))) values.forEach(v -> request.header(name, v));
                });
                HttpResponse<InputStream> response;
                HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
                try {
                    response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (ConnectException e) {
                    client.close();
                    continue; // never reached that replica: the next one may take it
                } catch (HttpTimeoutException e) {
                    client.close();
                    exchange.sendResponseHeaders(504, -1);
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    client.close();
                    exchange.sendResponseHeaders(503, -1);
                    return;
                } catch (IOException e) {
                    client.close();
                    exchange.sendResponseHeaders(502, -1);
                    return;
                }
                response.headers().map().forEach((name, values) -> {
                    if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT)) && !name.startsWith(":")) {
                        exchange.getResponseHeaders().put(name, values);
                    }
                });
                exchange.sendResponseHeaders(response.statusCode(), 0);
                try (client; InputStream in = response.body(); OutputStream out = exchange.getResponseBody()) {
                    byte[] buffer = new byte[8192];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
                return;
            }
            exchange.sendResponseHeaders(502, -1); // every replica refused
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
