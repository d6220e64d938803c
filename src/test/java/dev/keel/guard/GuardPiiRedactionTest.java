package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import org.junit.jupiter.api.Test;

class GuardPiiRedactionTest {
    private final Guard guard = new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE,
            PiiScanner.of(GuardConfig.DEFAULTS.phoneRegions()));

    @Test
    void redactedTextCarriesPlaceholdersAndRestoringThemGivesTheOriginalBack() {
        String text = "I'm ann@example.com, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, call +44 20 7946 0958, "
                + "SSN 123-45-6789, key sk_live_4eC39HqLyjWDarjtT1zdp7dc; again ann@example.com";
        Redaction redaction = new Redaction();

        GuardResult result = guard.check(text, Guard.Direction.INPUT, GuardConfig.Profile.STRICT, redaction);

        assertThat(result.verdict()).isInstanceOf(GuardVerdict.Redact.class);
        String redacted = ((GuardVerdict.Redact) result.verdict()).text();
        assertThat(redacted).isEqualTo("I'm <EMAIL_1>, card <CREDIT_CARD_1>, IBAN <IBAN_1>, call <PHONE_1>, SSN <SSN_1>, key <SECRET_1>; "
                + "again <EMAIL_1>");
        assertThat(redaction.restore(redacted)).isEqualTo(text);
        assertThat(result.categories()).containsExactly("CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER", "SECRET", "US_SSN");
    }

    @Test
    void aBlockNamesEveryEntityTheTextCarriesWhicheverComesFirst() {
        GuardConfig config = dev.keel.config.KeelConfig.parse("guard: {pii: {CREDIT_CARD: block}}", k -> null).guard();
        Guard blocking = new Guard(config, text -> InjectionDetector.Assessment.NONE, PiiScanner.of(config.phoneRegions()));

        GuardResult cardFirst = blocking.check("card 4111 1111 1111 1111 mail ann@example.com", Guard.Direction.INPUT, GuardConfig.Profile.STRICT,
                new Redaction());
        GuardResult mailFirst = blocking.check("mail ann@example.com card 4111 1111 1111 1111", Guard.Direction.INPUT, GuardConfig.Profile.STRICT,
                new Redaction());

        assertThat(cardFirst.verdict()).isInstanceOf(GuardVerdict.Block.class);
        assertThat(cardFirst.categories()).containsExactly("CREDIT_CARD", "EMAIL_ADDRESS").isEqualTo(mailFirst.categories());
        assertThat(((GuardVerdict.Block) mailFirst.verdict()).message()).contains("credit card");
    }

    @Test
    void anIpAddressIsAllowedByDefaultAndTheTextPassesUnchanged() {
        GuardResult result = guard.check("ping 10.0.0.1", Guard.Direction.INPUT, GuardConfig.Profile.STRICT, new Redaction());

        assertThat(result.verdict()).isInstanceOf(GuardVerdict.Allow.class);
        assertThat(result.entities()).containsExactly(new PiiEntity("IP_ADDRESS", 5, 13));
    }

    @Test
    void theOutputGuardFindsASecretAModelWrote() {
        GuardResult result = guard.check("Use the key AKIAIOSFODNN7EXAMPLE.", Guard.Direction.OUTPUT, GuardConfig.Profile.STRICT, new Redaction());

        assertThat(result.verdict()).isEqualTo(new GuardVerdict.Redact("Use the key <SECRET_1>.", ((GuardVerdict.Redact) result.verdict()).redaction()));
        assertThat(result.signals()).extracting(GuardSignal::category).containsExactly("SECRET");
    }
}
