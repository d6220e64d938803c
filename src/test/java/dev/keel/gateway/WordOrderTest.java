package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a cached question's content words come in an order another question's may be answered with. */
class WordOrderTest {
    private static boolean agree(String a, String b) {
        return WordOrder.agree(WordOrder.of(a), WordOrder.of(b));
    }

    @Test
    void sharedWordsInAnotherOrderDisagree() {
        assertThat(agree("How do I migrate from Postgres to MySQL?", "How do I migrate from MySQL to Postgres?")).isFalse();
        assertThat(agree("Is Python faster than Java?", "Is Java faster than Python?")).isFalse();
        assertThat(agree("Can I upgrade before I pay?", "Can I pay before I upgrade?")).isFalse();
        assertThat(agree("Convert USD to EUR", "convert eur to usd")).isFalse();
        assertThat(agree("Can an admin delete a member's messages?", "Can a member delete an admin's messages?")).isFalse();
        assertThat(agree("Does the customer's refund go to the reseller?", "Does the reseller's refund go to the customer?")).isFalse();
        assertThat(agree("Can I see the users' invoices?", "Can I see the invoices of the users?")).isFalse();
    }

    @Test
    void oneLetterNamesCountAsWordsButArticlesAndIDoNot() {
        assertThat(agree("How do I switch from plan A to plan B?", "How do I switch from plan B to plan A?")).isFalse();
        assertThat(agree("How do I convert C to F?", "How do I convert F to C?")).isFalse();
        assertThat(agree("Is a plan cheaper than I thought?", "Is the plan cheaper than we thought?")).isTrue();
    }

    @Test
    void rewordingsThatKeepTheOrderOfTheirSharedWordsAgree() {
        assertThat(agree("How do I migrate from Postgres to MySQL?", "How can I move my data from Postgres into MySQL?")).isTrue();
        assertThat(agree("How do I reset my password?", "What's the way to reset the password?")).isTrue();
        assertThat(agree("How long does a refund take?", "How long do refunds take")).isTrue();
    }

    @Test
    void functionWordsCaseAccentsAndRepeatsDoNotCount() {
        assertThat(agree("What is the price of the Pro plan?", "The Pro plan: what is its price?")).isFalse();
        assertThat(agree("Does the café open before the muséum?", "does the CAFE open before the museum")).isTrue();
        assertThat(agree("Can you and I share the plan?", "Can I and you share the plan?")).as("function words only moved").isTrue();
        assertThat(agree("Does the plan include plan support?", "Does the plan include support?")).as("a word counts at its first place").isTrue();
    }

    @Test
    void questionsSharingAtMostOneWordOrNoneAtAllAgree() {
        assertThat(agree("Where are invoices?", "Show me the billing page")).isTrue();
        assertThat(WordOrder.agree(WordOrder.of("Postgres to MySQL"), WordOrder.NONE)).as("an entry stored without words").isTrue();
        assertThat(WordOrder.of("How do I do it?")).isEmpty();
    }
}
