package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import org.junit.jupiter.api.Test;

/** What a stream wrote, counted for billing without holding the stream's whole text. */
class StreamedTextTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void countsContentReasoningAndToolCallsNamesAndArguments() throws Exception {
        StreamedText text = new StreamedText();
        assertThat(text.isEmpty()).isTrue();
        text.add((ObjectNode) JSON.readTree("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Think.\",\"content\":\"Looking that up.\"}}]}"));
        text.add((ObjectNode) JSON.readTree("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
                + "{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\": \\\"revenue by region\\\"}\"}}]}}]}"));
        assertThat(text.isEmpty()).isFalse();
        assertThat(text.tokens()).isEqualTo(Tokens.count("Looking that up." + "Think." + "lookup" + "{\"q\": \"revenue by region\"}"));
    }

    @Test
    void aLongStreamIsCountedInPiecesAsIfWholeWithinAFewTokens() throws Exception {
        StreamedText text = new StreamedText();
        StringBuilder whole = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            String delta = "word" + (i % 97) + " ";
            whole.append(delta);
            ObjectNode chunk = JSON.createObjectNode();
            chunk.putArray("choices").addObject().put("index", 0).putObject("delta").put("content", delta);
            text.add(chunk);
        }
        long exact = Tokens.count(whole.toString()), pieces = whole.length() / StreamedText.PIECE + 1;
        assertThat(text.tokens()).as("a token split at a piece boundary may count twice, never less").isBetween(exact, exact + pieces);
    }

    @Test
    void theBoundWithoutCountingIsNeverBelowTheCountWhateverTheScript() throws Exception {
        StreamedText text = new StreamedText();
        java.util.Random random = new java.util.Random(7);
        String[] pieces = {"word ", "🍕", "如何取消", "  ", "naïve ", "\u0915\u094d\u0937", "x".repeat(300), "1234567890"};
        for (int i = 0; i < 3_000; i++) {
            ObjectNode chunk = JSON.createObjectNode();
            chunk.putArray("choices").addObject().put("index", 0).putObject("delta").put("content", pieces[random.nextInt(pieces.length)]);
            text.add(chunk);
            long bound = text.tokensAtMost();
            if (i % 37 == 0) assertThat(bound).as("after chunk " + i).isGreaterThanOrEqualTo(text.tokens());
        }
        long counted = text.tokens();
        assertThat(text.tokensAtMost()).as("just after a count, the bound is the count").isEqualTo(counted);
    }
}
