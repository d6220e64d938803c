package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.Jackson;
import org.junit.jupiter.api.Test;

/** The request each OpenAI-compatible model reads: reasoning models get their own names for the output limit and no sampling settings. */
class OpenAiChatModelTest {
    private static ObjectNode request(String model, String json) throws Exception {
        ObjectNode r = (ObjectNode) Jackson.mapper().readTree(json);
        r.put("model", model);
        return r;
    }

    @Test
    void reasoningModelsGetMaxCompletionTokensAndNoTemperatureOrTopP() throws Exception {
        for (String model : new String[] {"o1", "o3", "o3-mini", "o4-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5-mini", "gpt-5-nano-2025-08-07", "gpt-5.1"}) {
            ObjectNode r = OpenAiChatModel.forModel(request(model, "{\"max_tokens\":300,\"temperature\":0,\"top_p\":0.9,\"seed\":7}"));
            assertThat(r.has("max_tokens")).as(model).isFalse();
            assertThat(r.get("max_completion_tokens").asInt()).as(model).isEqualTo(300);
            assertThat(r.has("temperature")).as(model).isFalse();
            assertThat(r.has("top_p")).as(model).isFalse();
            assertThat(r.get("seed").asInt()).as("other fields pass").isEqualTo(7);
        }
    }

    @Test
    void theLowerLimitCountsWhenBothAreSetAndTheDefaultSamplingStays() throws Exception {
        ObjectNode r = OpenAiChatModel.forModel(request("o3", "{\"max_tokens\":300,\"max_completion_tokens\":1000,\"temperature\":1}"));
        assertThat(r.get("max_completion_tokens").asInt()).isEqualTo(300);
        assertThat(r.has("max_tokens")).isFalse();
        assertThat(r.get("temperature").asInt()).isEqualTo(1);
    }

    @Test
    void otherModelsAreSentAsAsked() throws Exception {
        for (String model : new String[] {"gpt-4o-mini", "gpt-5-chat-latest", "gpt-5.1-chat-latest", "llama3.1:8b", "o1x", "omni", "openai/o3", "mistral-small"}) {
            String json = "{\"max_tokens\":300,\"temperature\":0}";
            assertThat(OpenAiChatModel.forModel(request(model, json))).as(model).isEqualTo(request(model, json));
        }
    }
}
