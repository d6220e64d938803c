package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EvalConfigTest {
    @Test
    void exampleFileStatesTheDefaults() {
        assertThat(KeelConfig.load(Path.of("keel.example.yaml")).eval()).isEqualTo(EvalConfig.DEFAULTS);
    }

    @Test
    void aJudgeModelMustBeInTheCatalog() {
        String yaml = """
                providers: {p: {type: extractive}}
                models: {m: {targets: [{provider: p, model: extractive}]}}
                eval: {judge: {model: nope}}
                """;
        assertThatThrownBy(() -> KeelConfig.parse(yaml, k -> null)).isInstanceOf(ConfigException.class).hasMessageContaining("eval.judge.model");
        assertThat(KeelConfig.parse(yaml.replace("nope", "m"), k -> null).eval().judgeModel()).isEqualTo("m");
    }

    @Test
    void aSampleRateAboveOneIsRefusedNamingTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("eval: {online: {sample_rate: 2}}", k -> null)).hasMessageContaining("eval.online.sample_rate");
    }
}
