package dev.keel.guard;

import static dev.keel.guard.PiiScannerTest.found;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PhoneFinderTest {
    @Test
    void northAmericanNumbersInEveryCommonFormat() {
        assertThat(found("Call (415) 555-2671, +1 415-555-2671, 415.555.2671, 4155552671 or 604-555-1234"))
                .containsExactly("PHONE_NUMBER:(415) 555-2671", "PHONE_NUMBER:+1 415-555-2671", "PHONE_NUMBER:415.555.2671",
                        "PHONE_NUMBER:4155552671", "PHONE_NUMBER:604-555-1234");
    }

    @Test
    void northAmericanNumbersWithTheLeadingOneAndTollFreeNumbers() {
        assertThat(found("dial 1-415-555-2671 or 1 (800) 555-0199 or +1-800-555-0199")).containsExactly("PHONE_NUMBER:1-415-555-2671",
                "PHONE_NUMBER:1 (800) 555-0199", "PHONE_NUMBER:+1-800-555-0199");
    }

    @Test
    void europeanNumbersNationalAndInternational() {
        assertThat(found("UK 020 7946 0958, +44 20 7946 0958; DE 030 12345678, +49 30 12345678; FR 01 42 68 53 00, +33 1 42 68 53 00; "
                + "ES 912 345 678; IT 06 1234 5678; NL 020 123 4567"))
                .containsExactly("PHONE_NUMBER:020 7946 0958", "PHONE_NUMBER:+44 20 7946 0958", "PHONE_NUMBER:030 12345678",
                        "PHONE_NUMBER:+49 30 12345678", "PHONE_NUMBER:01 42 68 53 00", "PHONE_NUMBER:+33 1 42 68 53 00",
                        "PHONE_NUMBER:912 345 678", "PHONE_NUMBER:06 1234 5678", "PHONE_NUMBER:020 123 4567");
    }

    @Test
    void indianJapaneseAustralianAndBrazilianNumbers() {
        assertThat(found("IN +91 98765 43210 or 098765 43210; JP 03-1234-5678, +81 3-1234-5678; AU (02) 9876 5432; BR (11) 91234-5678, +55 11 91234-5678"))
                .containsExactly("PHONE_NUMBER:+91 98765 43210", "PHONE_NUMBER:098765 43210", "PHONE_NUMBER:03-1234-5678",
                        "PHONE_NUMBER:+81 3-1234-5678", "PHONE_NUMBER:(02) 9876 5432", "PHONE_NUMBER:(11) 91234-5678",
                        "PHONE_NUMBER:+55 11 91234-5678");
    }

    @Test
    void aPlusNumberOfARegionOutsideTheListIsFound() {
        assertThat(found("Ring +41 44 668 18 00 or +65 6123 4567")).containsExactly("PHONE_NUMBER:+41 44 668 18 00", "PHONE_NUMBER:+65 6123 4567");
    }

    @Test
    void aNumberFollowedByOtherDigitsInTheSameRunIsStillFound() {
        assertThat(found("+44 20 7946 0958 10.0.0.1")).containsExactly("PHONE_NUMBER:+44 20 7946 0958", "IP_ADDRESS:10.0.0.1");
    }

    @Test
    void aClosingParenthesisAfterANumberIsNotPartOfIt() {
        assertThat(found("Ann (+44 20 7946 0958) and Bob (020 7946 0958)")).containsExactly("PHONE_NUMBER:+44 20 7946 0958",
                "PHONE_NUMBER:020 7946 0958");
    }

    @Test
    void datesTimesOrderNumbersVersionsAndIpsAreNotPhoneNumbers() {
        assertThat(found("On 2023-11-29, 29/11/2023 or 11.29.2023 at 12:30:45; order 4155552671; invoice INV-2023-004211; "
                + "ticket #4155552671; version 10.15.7.1234; 1700000000 seconds; 20231129; bad card 4111 1111 1111 1112; "
                + "the 2024-2025 budget; room 1234 5678; <td>2023-04-03 01</td>; https://shop.example.com/e/075678398926/?itm=3; "
                + "?id=4155552671&x=1; Aslib Proceedings 20, 542-50 (1968); an average value of 0.823 0.012"))
                .isEmpty();
    }

    @Test
    void onlyALabelRightBeforeTheDigitsMakesThemAnotherKindOfNumber() {
        assertThat(found("Customer service: (415) 555-2671; account manager 020 7946 0958; Order no. 020 7946 0958"))
                .containsExactly("PHONE_NUMBER:(415) 555-2671", "PHONE_NUMBER:020 7946 0958");
    }

    @Test
    void bareDigitsOfANonNorthAmericanNumberCountOnlyAfterAPhoneWord() {
        assertThat(found("ref 9876543210")).isEmpty();
        assertThat(found("my mobile is 9876543210")).containsExactly("PHONE_NUMBER:9876543210");
    }

    @Test
    void nationalFormatsOfRegionsLeftOutOfTheListAreNotSearched() {
        List<PiiEntity> usOnly = new ArrayList<>();
        new PhoneFinder(List.of("US")).find("Paris 01 42 68 53 00", usOnly);
        List<PiiEntity> withFrance = new ArrayList<>();
        new PhoneFinder(List.of("US", "FR")).find("Paris 01 42 68 53 00", withFrance);

        assertThat(usOnly).isEmpty();
        assertThat(withFrance).containsExactly(new PiiEntity("PHONE_NUMBER", 6, 20));
    }

    @Test
    void withoutRegionsOnlyPlusNumbersAreFound() {
        List<PiiEntity> out = new ArrayList<>();
        new PhoneFinder(List.of()).find("(415) 555-2671 or +1 415-555-2671", out);
        assertThat(out).containsExactly(new PiiEntity("PHONE_NUMBER", 18, 33));
    }
}
