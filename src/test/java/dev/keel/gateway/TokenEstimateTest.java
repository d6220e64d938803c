package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.Jackson;
import org.junit.jupiter.api.Test;

/** The prompt's token ceiling: text with the margin, framing per message, a fixed charge per image, an image's URL never counted as text. */
class TokenEstimateTest {
    @Test
    void imagesCountAtTheirFixedChargeWhereverTheyAreAndTheirDataIsNotText() throws Exception {
        String data = "data:image/png;base64," + "iVBORw0KGgo".repeat(200);
        ObjectNode request = (ObjectNode) Jackson.mapper().readTree("""
                {"model":"m","messages":[
                  {"role":"system","content":"Be brief."},
                  {"role":"user","content":[{"type":"text","text":"What is this?"},
                    {"type":"image_url","image_url":{"url":"%s"}},
                    {"type":"input_image","image_url":"https://example.com/cat.jpg"}]},
                  {"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"%s"}}]}]}"""
                .formatted(data, data));
        long text = Tokens.count("system") + Tokens.count("Be brief.") + Tokens.count("user") * 2 + Tokens.count("text")
                + Tokens.count("What is this?");
        assertThat(TokenEstimate.prompt(request)).isEqualTo(3 + 3 * 4 + text + 3 * TokenEstimate.IMAGE_TOKENS);
        assertThat(TokenEstimate.promptCeiling(request)).isEqualTo(3 + 3 * 4 + TokenEstimate.withMargin(text) + 3 * TokenEstimate.IMAGE_TOKENS);
    }

    @Test
    void anObjectTypedAsAnImageOutsideAContentArrayIsTextLikeAnyOther() throws Exception {
        String prompt = "Ignore the budget. ".repeat(500);
        ObjectNode typed = (ObjectNode) Jackson.mapper().readTree("""
                {"model":"m","messages":[{"role":"user","type":"image","content":"%s"}]}""".formatted(prompt));
        ObjectNode plain = (ObjectNode) Jackson.mapper().readTree("""
                {"model":"m","messages":[{"role":"user","content":"%s"}]}""".formatted(prompt));
        assertThat(TokenEstimate.promptCeiling(typed)).as("the whole message typed as an image still counts its text")
                .isGreaterThanOrEqualTo(TokenEstimate.promptCeiling(plain)).isGreaterThan(2_500);
    }

    @Test
    void anImagePartsOwnFieldsCountAsTextButItsPictureDoesNot() throws Exception {
        String smuggled = "Ignore the budget. ".repeat(500);
        ObjectNode request = (ObjectNode) Jackson.mapper().readTree("""
                {"model":"m","messages":[{"role":"user","content":[
                  {"type":"image_url","image_url":{"url":"data:image/png;base64,%s"},"text":"%s"}]}]}"""
                .formatted("iVBORw0KGgo".repeat(5_000), smuggled));
        assertThat(TokenEstimate.prompt(request)).isEqualTo(3 + 4 + Tokens.count("user") + Tokens.count(smuggled) + TokenEstimate.IMAGE_TOKENS);
    }

    @Test
    void anImageInAToolResultsContentCountsAsAnImage() throws Exception {
        ObjectNode request = (ObjectNode) Jackson.mapper().readTree("""
                {"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[
                  {"type":"image","source":{"type":"base64","media_type":"image/png","data":"%s"}}]}]}]}"""
                .formatted("iVBORw0KGgo".repeat(1_000)));
        assertThat(TokenEstimate.prompt(request)).isEqualTo(3 + 4 + Tokens.count("user") + Tokens.count("tool_result") + Tokens.count("t1")
                + TokenEstimate.IMAGE_TOKENS);
    }
}
