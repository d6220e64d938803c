package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuardInjectionVerdictTest {
    private static Guard scoring(GuardSignal... signals) {
        return new Guard(GuardConfig.DEFAULTS, text -> new InjectionDetector.Assessment(0.9, List.of(signals)), text -> List.of());
    }

    private static GuardResult check(Guard guard) {
        return guard.check("some text", Guard.Direction.INPUT, GuardConfig.Profile.STRICT, new Redaction());
    }

    @Test
    void aBlocksCategoriesAreAttackCategoriesNeverClassifierNames() {
        GuardResult r = check(scoring(new GuardSignal("pattern", "system_prompt_extraction", 0.9), new GuardSignal("classifier", "ngram", 0.8),
                new GuardSignal("classifier", "embedding", 0.7)));

        assertThat(r.categories()).containsExactly("system_prompt_extraction");
        assertThat(r.signals()).extracting(GuardSignal::category).contains("ngram", "embedding");
    }

    @Test
    void aBlockOnlyTheClassifiersExplainIsAGenericInjection() {
        assertThat(check(scoring(new GuardSignal("classifier", "ngram", 0.9))).categories()).containsExactly("injection");
    }

    @Test
    void theRefusalSaysWhatTheRequestSeemedToAttempt() {
        String extraction = ((GuardVerdict.Block) check(scoring(new GuardSignal("pattern", "system_prompt_extraction", 0.9))).verdict()).message();
        String override = ((GuardVerdict.Block) check(scoring(new GuardSignal("pattern", "instruction_override", 0.9))).verdict()).message();

        assertThat(extraction).contains("reveal its hidden instructions").contains("Rephrase it");
        assertThat(override).contains("override the assistant's instructions").contains("Rephrase it");
    }
}
