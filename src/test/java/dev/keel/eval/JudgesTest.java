package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.SampleCorpus;
import dev.keel.config.ConfigException;
import dev.keel.config.GatewayConfig;
import dev.keel.config.KeelConfig;
import org.junit.jupiter.api.Test;

/** Judge families from the catalog, and the warning when a model would judge its own family's answers. */
class JudgesTest {
    private static GatewayConfig catalog(String models) {
        return KeelConfig.parse("""
                providers:
                  oai: {type: openai, base_url: "http://127.0.0.1:9/v1"}
                  ant: {type: anthropic, base_url: "http://127.0.0.1:9/v1"}
                  local: {type: openai, base_url: "http://127.0.0.1:9/v1"}
                models:
                """ + models, k -> null).gateway();
    }

    private static final String MIXED = """
              mini: {targets: [{provider: oai, model: gpt-4o-mini}]}
              big: {targets: [{provider: oai, model: o3}]}
              sonnet: {targets: [{provider: ant, model: claude-sonnet-4-5}]}
              haiku: {targets: [{provider: ant, model: some-future-name}]}
              llama: {targets: [{provider: local, model: meta-llama/Llama-3.1-8B-Instruct}]}
              qwen: {targets: [{provider: local, model: qwen2.5:7b}]}
              mystery: {targets: [{provider: local, model: my-finetune}]}
            """;

    @Test
    void familiesComeFromTheUpstreamModelNameThenTheProviderType() {
        GatewayConfig c = catalog(MIXED);
        assertThat(Judges.family(c, "mini")).isEqualTo("openai");
        assertThat(Judges.family(c, "big")).isEqualTo("openai");
        assertThat(Judges.family(c, "sonnet")).isEqualTo("anthropic");
        assertThat(Judges.family(c, "haiku")).isEqualTo("anthropic");
        assertThat(Judges.family(c, "llama")).isEqualTo("llama");
        assertThat(Judges.family(c, "qwen")).isEqualTo("qwen");
        assertThat(Judges.family(c, "mystery")).isNull();
        assertThat(Judges.family(c, "extractive")).isNull();
        assertThat(Judges.family(GatewayConfig.EMPTY, "gpt-4.1")).isEqualTo("openai");
    }

    @Test
    void warnsWhenJudgeAndJudgedShareAFamilyAndNamesAModelOfAnother() {
        assertThat(Judges.familyWarning(catalog(MIXED), "mini", "big"))
                .hasValueSatisfying(w -> assertThat(w).contains("'mini' is of the openai family", "'big'", "--judge haiku (anthropic)"));
        assertThat(Judges.familyWarning(catalog(MIXED), "sonnet", "mini")).isEmpty();
    }

    @Test
    void noWarningWithoutAnotherFamilyToUseOrForTheExtractiveAnswerer() {
        String openAiOnly = """
                  mini: {targets: [{provider: oai, model: gpt-4o-mini}]}
                  big: {targets: [{provider: oai, model: gpt-4o}]}
                """;
        assertThat(Judges.familyWarning(catalog(openAiOnly), "mini", "big")).isEmpty();
        assertThat(Judges.familyWarning(catalog(MIXED), "mini", "extractive")).isEmpty();
    }

    @Test
    void noJudgeModelIsTheOfflineHeuristicJudge() {
        Judges.Selection s = Judges.create(SampleCorpus.keel(), null, "extractive", null, "eval.judge.model");
        assertThat(s.judge().id()).isEqualTo(HeuristicJudge.ID);
        assertThat(s.warning()).isNull();
    }

    @Test
    void aJudgeModelNoProviderServesIsAConfigErrorNamingTheField() {
        assertThatThrownBy(() -> Judges.create(SampleCorpus.keel(), "no-such-model", "extractive", null, "--judge"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--judge");
    }
}
