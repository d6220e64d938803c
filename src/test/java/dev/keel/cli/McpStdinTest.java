package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * What the SDK reads of {@code keel mcp}'s stdin ({@link McpCommand.Screened}): only messages it can take, one a line;
 * everything else is answered with JSON-RPC's error on the way in. The session end to end is in McpStdioTest.
 */
class McpStdinTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INITIALIZED = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";

    @Test
    void onlyMessagesTheSdkCanTakeReachItAndEachOtherLineIsAnswered() throws IOException {
        Screened screened = screen(String.join("\n", "not json", "", "   ", INITIALIZED, "null", "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\"}",
                INITIALIZED + "\r", "[1, 2]") + "\n");
        assertThat(screened.sdk()).isEqualTo(INITIALIZED + "\n" + INITIALIZED + "\n");
        assertThat(screened.replies()).extracting(r -> r.at("/error/code").asInt()).containsExactly(-32700, -32600, -32602, -32600);
        assertThat(screened.replies()).extracting(r -> r.get("id").isNull()).containsExactly(true, true, false, true);
        assertThat(screened.replies().get(2).get("id").asInt()).isEqualTo(9);
    }

    @Test
    void aLineOverTheLimitIsRefusedAndTheNextOneStillReadsWhole() throws IOException {
        String huge = "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"" + "a".repeat(McpCommand.Unanswered.MAX_LINE_BYTES) + "\"}}";
        Screened screened = screen(huge + "\n" + INITIALIZED);
        assertThat(screened.sdk()).isEqualTo(INITIALIZED + "\n");
        assertThat(screened.replies()).singleElement().satisfies(r -> assertThat(r.at("/error/message").asText()).isEqualTo("a message may be at most 16 MiB"));
    }

    @Test
    void theEndOfStdinIsReportedOnceEveryLineIsRead() throws IOException {
        CountDownLatch closed = new CountDownLatch(1);
        McpCommand.Screened in = new McpCommand.Screened(new ByteArrayInputStream("not json\n".getBytes(StandardCharsets.UTF_8)),
                new ByteArrayOutputStream(), new McpCommand.Unanswered(), closed);
        assertThat(in.readAllBytes()).isEmpty();
        assertThat(closed.getCount()).isZero();
        assertThat(in.read()).isEqualTo(-1);
    }

    private record Screened(String sdk, List<JsonNode> replies) {}

    private static Screened screen(String stdin) throws IOException {
        ByteArrayOutputStream replies = new ByteArrayOutputStream();
        McpCommand.Screened in = new McpCommand.Screened(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), replies,
                new McpCommand.Unanswered(), new CountDownLatch(1));
        String sdk = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        List<JsonNode> answered = replies.toString(StandardCharsets.UTF_8).lines().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();
        return new Screened(sdk, answered);
    }
}
