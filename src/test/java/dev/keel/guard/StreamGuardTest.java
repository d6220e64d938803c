package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The output guard over a stream: what the client sees as deltas arrive. */
class StreamGuardTest {
    private static final Guard GUARD = StandInGuard.of(GuardConfig.DEFAULTS);

    private static StreamGuard checking(Redaction placeholders) {
        return new StreamGuard(GUARD, placeholders, value -> false, true);
    }

    /** Every delta through the guard, then its end; the pieces the client saw, in order. */
    private static List<String> seen(StreamGuard window, String... deltas) {
        List<String> out = new java.util.ArrayList<>();
        for (String d : deltas) out.add(window.accept(d));
        out.add(window.finish());
        return out;
    }

    @Test
    void plainWordsFlowWithOnlyAnUnfinishedLastWordHeldBack() {
        List<String> pieces = seen(checking(new Redaction()), "The invoice ", "is paid ", "in fu", "ll.");

        assertThat(pieces).containsExactly("The invoice ", "is paid ", "in ", "", "full.");
    }

    @Test
    void anEmailSplitAcrossDeltasIsRedactedBeforeAnyOfItIsShown() {
        List<String> pieces = seen(checking(new Redaction()), "Write to carl", ".smith@corp", ".example today");

        assertThat(String.join("", pieces)).isEqualTo("Write to <EMAIL_1> today");
        assertThat(pieces).noneMatch(p -> p.contains("carl") || p.contains("corp"));
    }

    @Test
    void aSpacedNumberIsHeldUntilItsLastGroupArrives() {
        List<String> pieces = seen(checking(new Redaction()), "The SSN is 078-", "05-", "1120 on file.");

        assertThat(String.join("", pieces)).isEqualTo("The SSN is <SSN_1> on file.");
        assertThat(pieces).noneMatch(p -> p.contains("078"));
    }

    @Test
    void upperCaseGroupsOfASpacedIbanAreHeldWithItsDigitGroups() {
        StreamGuard window = checking(new Redaction());

        window.accept("Pay to GB82 WEST ");

        assertThat(window.accept("1234 ")).isEmpty();
    }

    @Test
    void aPlaceholderSplitAcrossDeltasIsRestored() {
        Redaction placeholders = new Redaction();
        placeholders.redact("ann@example.com", List.of(new PiiEntity("EMAIL_ADDRESS", 0, 15)));
        StreamGuard window = new StreamGuard(GUARD, placeholders, "ann@example.com"::equals, true);

        assertThat(String.join("", seen(window, "Hi <", "EMA", "IL_1", ">, done"))).isEqualTo("Hi ann@example.com, done");
    }

    @Test
    void aLoneAngleBracketFarFromAnyPlaceholderIsPlainText() {
        StreamGuard window = new StreamGuard(GUARD, new Redaction(), value -> false, false);

        assertThat(window.accept("if a < b then " + "x".repeat(40))).startsWith("if a < b then");
    }

    @Test
    void theCanarySplitAcrossDeltasBlocksTheStreamBeforeAnyOfItIsShown() {
        StreamGuard window = checking(new Redaction());
        String canary = GUARD.canary();

        List<String> pieces = seen(window, "Here it is: ", canary.substring(0, 6), canary.substring(6), " and more text");

        assertThat(window.blocked().code()).isEqualTo("system_prompt_leak");
        assertThat(String.join("", pieces)).isEqualTo("Here it is: ");
        assertThat(window.accept("more")).isEmpty();
    }

    @Test
    void aHugeDeltaWithoutSpacesIsReleasedBeyondTheWindow() {
        StreamGuard window = checking(new Redaction());

        String shown = window.accept("x".repeat(10_000));

        assertThat(shown).hasSize(10_000 - StreamGuard.WINDOW);
        assertThat(window.finish()).hasSize(StreamGuard.WINDOW);
    }

    @Test
    void aSurrogatePairIsNeverSplit() {
        StreamGuard window = new StreamGuard(GUARD, new Redaction(), value -> false, true);
        String emoji = "\uD83D\uDE00";

        String shown = window.accept("a".repeat(StreamGuard.WINDOW - 1) + emoji + "b".repeat(StreamGuard.WINDOW));

        assertThat(Character.isHighSurrogate(shown.charAt(shown.length() - 1))).isFalse();
    }
}
