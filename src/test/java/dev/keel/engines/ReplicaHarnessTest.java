package dev.keel.engines;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica harness itself: a real {@code keel serve} child behind the balancer, which skips a killed replica. */
class ReplicaHarnessTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void balancerSkipsAKilledReplicaAndFailsOnlyWhenNoneIsLeft() throws Exception {
        Path config = Files.writeString(dir.resolve("keel.yaml"), "server: {port: 0}\n");
        try (KeelProcess one = KeelProcess.start(config, dir.resolve("one"), Map.of());
             KeelProcess two = KeelProcess.start(config, dir.resolve("two"), Map.of());
             RoundRobinProxy proxy = new RoundRobinProxy(List.of(one.baseUrl(), two.baseUrl()))) {
            for (int i = 0; i < 4; i++) assertThat(get(proxy.baseUrl() + "/health/live")).isEqualTo(200);
            one.kill();
            assertThat(one.alive()).isFalse();
            for (int i = 0; i < 4; i++) assertThat(get(proxy.baseUrl() + "/health/live")).isEqualTo(200);
            two.kill();
            assertThat(get(proxy.baseUrl() + "/health/live")).isEqualTo(502);
        }
    }

    private static int get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
