package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The router's own checks judge a reply by how it opens and how long it is for what was asked, in several languages. */
class ReplyChecksTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final EscalationCheck checks = new ReplyChecks();

    private static ObjectNode ask(String text) {
        ObjectNode request = JSON.createObjectNode().put("model", "auto");
        request.putArray("messages").addObject().put("role", "user").put("content", text);
        return request;
    }

    private static ObjectNode reply(String content, String finish) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode choice = body.putArray("choices").addObject();
        choice.putObject("message").put("role", "assistant").put("content", content);
        choice.put("finish_reason", finish);
        return body;
    }

    private Optional<String> check(String question, String answer) {
        return checks.failure(ask(question), reply(answer, "stop"));
    }

    @Test
    void refusalsAreRecognisedInSeveralLanguages() {
        assertThat(check("Capital of France?", "I'm sorry, but I can't help with that.")).contains("refusal");
        assertThat(check("Capital of France?", "I’m unable to answer questions about geography.")).contains("refusal");
        assertThat(check("¿Capital de Francia?", "Lo siento, pero no puedo responder a eso.")).contains("refusal");
        assertThat(check("Hauptstadt von Frankreich?", "Leider kann ich diese Frage nicht beantworten.")).contains("refusal");
        assertThat(check("法国的首都？", "抱歉，我无法回答这个问题。")).contains("refusal");
        assertThat(check("フランスの首都は？", "申し訳ありませんが、お答えできません。")).contains("refusal");
    }

    @Test
    void hedgingIsRecognised() {
        assertThat(check("Capital of France?", "I'm not sure, it might be Lyon or Paris.")).contains("hedging");
        assertThat(check("Capitale de la France ?", "Je ne suis pas sûr de la réponse.")).contains("hedging");
    }

    @Test
    void aShortAnswerToAShortQuestionPasses() {
        assertThat(check("What is the capital of France?", "Paris.")).isEmpty();
        assertThat(check("What is the capital of France?", " ")).as("no text is no answer").contains("empty");
    }

    @Test
    void anExplanationInAFewWordsIsTooShort() {
        assertThat(check("Why is the sky blue?", "Rayleigh scattering.")).contains("too-short");
        assertThat(check("Why is the sky blue?", "Sunlight scatters off the molecules of the air, and blue light, with its shorter"
                + " wavelength, scatters much more than red, so blue reaches the eye from every part of the sky.")).isEmpty();
    }

    @Test
    void wordsOfRefusalLaterInAnAnswerAreNotARefusal() {
        String answer = "Paris is the capital of France. ".repeat(8) + "I cannot stress enough how lovely it is in spring.";
        assertThat(check("What is the capital of France?", answer)).isEmpty();
    }

    @Test
    void toolCallsAndRepliesCutByTheClientsOwnLimitAreNotJudgedOnTheirTextUnlessTheyHaveNone() throws Exception {
        ObjectNode toolCall = (ObjectNode) JSON.readTree("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                + "[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}");
        assertThat(checks.failure(ask("Why is the sky blue?"), toolCall)).isEmpty();
        ObjectNode limited = ask("Why is the sky blue?").put("max_tokens", 2);
        assertThat(checks.failure(limited, reply("Sunlight", "length"))).isEmpty();
        assertThat(checks.failure(ask("Why is the sky blue?"), reply("Sunlight", "length"))).as("a limit the client did not set").contains("too-short");
        assertThat(checks.failure(limited, reply("", "length"))).as("no text, whatever cut it").contains("empty");
    }
}
