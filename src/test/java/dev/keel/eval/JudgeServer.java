package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.FakeLlmServer;
import java.io.IOException;
import java.nio.file.Files;

/**
 * A Keel whose catalog has one chat model, {@code judge} (upstream {@code gpt-4o-mini}), served by a fake provider
 * without retries, so a failure is one request; the caches as configured by default. Closing stops both.
 */
public final class JudgeServer implements AutoCloseable {
    public final FakeLlmServer upstream;
    public final Keel keel;

    public JudgeServer() throws IOException {
        upstream = new FakeLlmServer();
        keel = Keel.open(KeelConfig.parse(yaml(upstream.baseUrl(), "gpt-4o-mini"), k -> null), Files.createTempDirectory("keel-judge-"));
    }

    /** keel.yaml with the fake provider at {@code baseUrl} serving model {@code judge} as {@code upstreamModel}. */
    public static String yaml(String baseUrl, String upstreamModel) {
        return """
                server: {port: 0}
                providers:
                  fake: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  judge:
                    targets:
                      - {provider: fake, model: %s}
                """.formatted(baseUrl, upstreamModel);
    }

    /** The text a judge request put between {@code <TAG-boundary>} and its closing tag, e.g. {@code tagged(req, "answer-a")}. */
    public static String tagged(JsonNode request, String tag) {
        StringBuilder user = new StringBuilder();
        for (JsonNode m : request.path("messages")) if (m.path("role").asText().equals("user")) user.append(m.path("content").asText());
        int open = user.indexOf(">", user.indexOf("<" + tag + "-")) + 1;
        return user.substring(open, user.indexOf("</" + tag + "-", open)).strip();
    }

    @Override
    public void close() {
        keel.close();
        upstream.close();
    }
}
