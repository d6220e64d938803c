package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.AgentConfig;
import dev.keel.config.KeelConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** keel.example.yaml documents the agents' limits with their defaults. */
class AgentConfigExampleTest {
    @Test
    void theExampleFileDocumentsTheDefaultLimits() {
        KeelConfig example = KeelConfig.load(Path.of("keel.example.yaml"));
        assertThat(example.agents().defaults()).isEqualTo(AgentConfig.Limits.DEFAULTS).isEqualTo(KeelConfig.defaults().agents().defaults());
        assertThat(example.agents().definitions()).isEmpty();
    }
}
