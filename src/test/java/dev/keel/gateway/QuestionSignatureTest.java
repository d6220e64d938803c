package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What similar questions must share before one is answered with the other's cached reply. */
class QuestionSignatureTest {
    private static String of(String question) {
        return QuestionSignature.of(question, List.of());
    }

    @Test
    void numbersMustMatchInOrderWhateverTheirThousandsSeparatorsOrDigits() {
        assertThat(of("Is the limit 1,000 requests?")).isEqualTo(of("Is the limit 1000 requests?"));
        assertThat(of("Is the limit １０００ requests?")).isEqualTo(of("Is the limit 1000 requests?"));
        assertThat(of("Is the limit ١٠٠٠ requests?")).isEqualTo(of("Is the limit 1000 requests?"));
        assertThat(of("Is the limit 100 requests?")).isNotEqualTo(of("Is the limit 1000 requests?"));
        assertThat(of("A 1.5 hour wait?")).isNotEqualTo(of("A 15 hour wait?"));
        assertThat(of("A 1,5 hour wait?")).isEqualTo(of("A 1.5 hour wait?"));
        assertThat(of("What is 2+2?")).isNotEqualTo(of("What is 2+3?"));
        assertThat(of("What happened on 03/05/2024?")).isNotEqualTo(of("What happened on 05/03/2024?"));
        assertThat(of("Is 3 greater than 7?")).isNotEqualTo(of("Is 7 greater than 3?"));
        assertThat(of("Is the power ²⁵⁶?")).isNotEqualTo(of("Is the power ²⁵⁷?"));
    }

    @Test
    void aSignPercentOrUnitWrittenOntoANumberIsPartOfIt() {
        assertThat(of("Is it -5 degrees?")).isNotEqualTo(of("Is it 5 degrees?"));
        assertThat(of("Is it \u22125 degrees?")).isEqualTo(of("Is it -5 degrees?"));
        assertThat(of("Is a 10% discount applied?")).isNotEqualTo(of("Is a 10 discount applied?"));
        assertThat(of("Can I send 10k requests?")).isNotEqualTo(of("Can I send 10m requests?"));
        assertThat(of("Pages 3-5 of the guide")).isEqualTo(of("Pages 3 5 of the guide"));
    }

    @Test
    void numberWordsCountAsTheirDigitsAndUnitsAfterASpaceAsWrittenOn() {
        assertThat(of("Can two people share a seat?")).isEqualTo(of("Can 2 people share a seat?"));
        assertThat(of("Can two people share a seat?")).isNotEqualTo(of("Can three people share a seat?"));
        assertThat(of("Is the limit a hundred requests?")).isNotEqualTo(of("Is the limit a thousand requests?"));
        assertThat(of("What happens on the Third failed login?")).isEqualTo(of("What happens on the 3rd failed login?"));
        assertThat(of("What happens on the third failed login?")).isNotEqualTo(of("What happens on the fourth failed login?"));
        assertThat(of("Is someone on call?")).as("no number inside a word").isEqualTo(of("Is anybody on call?"));
        assertThat(of("Can I upload 10 GB?")).isNotEqualTo(of("Can I upload 10 MB?"));
        assertThat(of("Can I upload 10 GB?")).isEqualTo(of("Can I upload 10GB?"));
        assertThat(of("Is there a 10 percent discount?")).isEqualTo(of("Is there a 10% discount?"));
        assertThat(of("Is there a 10 per cent discount?")).isEqualTo(of("Is there a 10% discount?"));
        assertThat(of("Is it 10 of them?")).as("a word that is not a unit stays apart").isEqualTo(of("Is it 10 among them?"));
        assertThat(of("Does it cost $10?")).isNotEqualTo(of("Does it cost \u20ac10?"));
    }

    @Test
    void negationsCountWithTheWordTheyNegate() {
        String none = of("How do I cancel my plan?");
        assertThat(of("How do I not cancel my plan?")).isNotEqualTo(none);
        assertThat(of("Why can't I cancel my plan?")).isNotEqualTo(none);
        assertThat(of("Why can\u2019t I cancel my plan?")).isEqualTo(of("Why can't I cancel my plan?"));
        assertThat(of("Is there no way to cancel without a fee?")).isNotEqualTo(of("Is there no way to cancel with a fee?"));
        assertThat(of("Can I cancel my plan and not get a refund?")).isNotEqualTo(of("Can I not cancel my plan and get a refund?"));
        assertThat(of("Is it available in the US but not in the EU?")).isNotEqualTo(of("Is it available in the EU but not in the US?"));
        assertThat(of("Noted, thanks. How do I cancel my plan?")).isEqualTo(none);
        assertThat(of("Which clients want the urgent report?")).isEqualTo(of("Which clients want the report?"));
    }

    @Test
    void directionsRolesAndOppositesUsersAskAboutMustBeTheSame() {
        assertThat(of("Can I downgrade to the Free plan?")).isNotEqualTo(of("Can I downgrade from the Free plan?"));
        assertThat(of("How do I migrate data from Postgres into MySQL?")).isNotEqualTo(of("How do I migrate data into Postgres from MySQL?"));
        assertThat(of("How do I migrate from Postgres to MySQL?")).isEqualTo(of("How can I move my data from Postgres to MySQL?"));
        assertThat(of("I can't log in to my account")).isEqualTo(of("I can't log into my account"));
        assertThat(of("Is the menu on the left side?")).isNotEqualTo(of("Is the menu on the right side?"));
        assertThat(of("How do I zoom in on the chart?")).isNotEqualTo(of("How do I zoom out on the chart?"));
        assertThat(of("How do I scale up the cluster?")).isNotEqualTo(of("How do I scale down the cluster?"));
        assertThat(of("Can a viewer invite an owner?")).isNotEqualTo(of("Can a viewer be invited by an owner?"));
        assertThat(of("Does Slack notify Jira?")).isNotEqualTo(of("Is Slack notified by Jira?"));
        assertThat(of("Is the new editor better?")).isNotEqualTo(of("Is the new editor worse?"));
        assertThat(of("Is 2FA mandatory for admins?")).isNotEqualTo(of("Is 2FA optional for admins?"));
        assertThat(of("Is the export available on mobile?")).isNotEqualTo(of("Is the export unavailable on mobile?"));
        assertThat(of("Are invoices sent at the start of the month?")).isNotEqualTo(of("Are invoices sent at the end of the month?"));
        assertThat(of("Does the backup run at 2am UTC?")).isNotEqualTo(of("Does the backup run at 2am PST?"));
        assertThat(of("\u00bfC\u00f3mo activo la cuenta?")).isNotEqualTo(of("\u00bfC\u00f3mo desactivo la cuenta?"));
        assertThat(of("\u00bfPuedo a\u00f1adir dos usuarios?")).isNotEqualTo(of("\u00bfPuedo a\u00f1adir tres usuarios?"));
        assertThat(of("Kann ich f\u00fcnf Nutzer hinzuf\u00fcgen?")).isEqualTo(of("Kann ich 5 Nutzer hinzuf\u00fcgen?"));
        assertThat(of("How do I reset my password?")).as("a rewording without those words").isEqualTo(of("How can I reset the password?"));
    }

    @Test
    void negationsInOtherLanguagesCountToo() {
        assertThat(of("Posso cancellare il piano?")).isNotEqualTo(of("Non posso cancellare il piano?"));
        assertThat(of("Posso cancelar o plano?")).isNotEqualTo(of("N\u00e3o posso cancelar o plano?"));
        assertThat(of("Kan ik het plan opzeggen?")).isNotEqualTo(of("Kan ik het plan niet opzeggen?"));
        assertThat(of("\u041c\u043e\u0436\u043d\u043e \u043e\u0442\u043c\u0435\u043d\u0438\u0442\u044c?"))
                .isNotEqualTo(of("\u041d\u0435\u043b\u044c\u0437\u044f \u043d\u0435 \u043e\u0442\u043c\u0435\u043d\u0438\u0442\u044c?"));
        assertThat(of("\u6211\u53ef\u4ee5\u53d6\u6d88\u5417")).isNotEqualTo(of("\u6211\u4e0d\u53ef\u4ee5\u53d6\u6d88\u5417"));
        assertThat(of("\u30ad\u30e3\u30f3\u30bb\u30eb\u3067\u304d\u308b")).isNotEqualTo(of("\u30ad\u30e3\u30f3\u30bb\u30eb\u3067\u304d\u306a\u3044"));
    }

    @Test
    void wordsThatTurnAQuestionAroundMustBeTheSame() {
        assertThat(of("Can I downgrade before the renewal?")).isNotEqualTo(of("Can I downgrade after the renewal?"));
        assertThat(of("Was I charged twice this month?")).isNotEqualTo(of("Was I charged twice last month?"));
        assertThat(of("Does the webhook retry for 24 hours?")).isNotEqualTo(of("Does the webhook retry for 24 minutes?"));
        assertThat(of("Is it safe to delete the cache folder?")).isNotEqualTo(of("Is it unsafe to delete the cache folder?"));
        assertThat(of("How do I upload a file?")).isNotEqualTo(of("How do I download a file?"));
        assertThat(of("How do I turn on dark mode?")).isEqualTo(of("How can I turn on the dark mode")).isNotEqualTo(of("How do I turn off dark mode?"));
        assertThat(of("Convert 10 hours to minutes")).as("in order").isNotEqualTo(of("Convert 10 minutes to hours"));
        assertThat(of("Is the feature enabled?")).isNotEqualTo(of("Is the feature disabled?"));
        assertThat(of("Is this plan refundable?")).isNotEqualTo(of("Is this plan non-refundable?"));
        assertThat(of("Kann ich vor der Verlängerung kündigen?")).isNotEqualTo(of("Kann ich nach der Verlängerung kündigen?"));
        assertThat(of("Does Pro include SSO?")).isEqualTo(of("Is SSO included in Pro?"));
        assertThat(of("How do I cancel my subscription?")).isEqualTo(of("How can I cancel my subscription"));
    }

    @Test
    void invisibleCharactersAndAccentsTheModelDropsCannotHideAContrastOrANegation() {
        String before = of("Can I downgrade before the renewal?");
        assertThat(of("Can I downgrade be\u200Bfore the renewal?")).isEqualTo(before);
        assertThat(of("Can I downgrade af\u00ADter the renewal?")).isEqualTo(of("Can I downgrade after the renewal?")).isNotEqualTo(before);
        assertThat(of("Can I downgrade áfter the renewal?")).isNotEqualTo(before);
        assertThat(of("How do I n\u200Bot cancel?")).isEqualTo(of("How do I not cancel?"));
        assertThat(of("Why don\u02BCt I get a refund?")).isEqualTo(of("Why don't I get a refund?")).isNotEqualTo(of("Why do I get a refund?"));
    }

    @Test
    void whatTheModelDoesNotReadMustBeIdentical() {
        assertThat(QuestionSignature.of("Is 🍕 vegetarian?", List.of("🍕"))).isNotEqualTo(QuestionSignature.of("Is 🥩 vegetarian?", List.of("🥩")));
        assertThat(QuestionSignature.of("Is 🍕 vegetarian?", List.of("🍕"))).isEqualTo(QuestionSignature.of("Is 🍕 vegetarian", List.of("🍕")));
        assertThat(QuestionSignature.of("a b", List.of("ab", "c"))).isNotEqualTo(QuestionSignature.of("a b", List.of("a", "bc")));
    }
}
