package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.keel.config.GuardConfig;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PiiScannerTest {
    static final PiiScanner SCANNER = PiiScanner.of(GuardConfig.DEFAULTS.phoneRegions());

    /** What the scanner found, as TYPE:text-of-the-span, in order. */
    static List<String> found(String text) {
        return SCANNER.detect(text).stream().map(e -> e.type() + ":" + text.substring(e.start(), e.end())).toList();
    }

    @Test
    void emailsAreFoundWithExactSpansIncludingSubdomainsTagsAndOtherScripts() {
        String text = "Mail ann@example.com, \"bob.smith+tag@mail.example.co.uk\" or josé@exämple.de.";
        assertThat(SCANNER.detect(text)).containsExactly(new PiiEntity("EMAIL_ADDRESS", 5, 20), new PiiEntity("EMAIL_ADDRESS", 23, 55),
                new PiiEntity("EMAIL_ADDRESS", 60, 75));
    }

    @Test
    void malformedAddressesAreNotEmails() {
        assertThat(found("user@localhost, a@b, @home, foo@bar.c, ann..b@x.com, ann.@x.com, x@-bad.com, @@@, ann@example.123")).isEmpty();
    }

    @Test
    void spansCountUtf16CodeUnitsSoEmojiBeforeAnEntityShiftItByTwo() {
        String text = "😀 ann@example.com";
        assertThat(SCANNER.detect(text)).containsExactly(new PiiEntity("EMAIL_ADDRESS", 3, 18));
    }

    @Test
    void socialSecurityNumbersInDashedAndSpacedFormsAndBareAfterAContextWord() {
        assertThat(found("SSN 123-45-6789 or 123 45 6789; ssn: 078051120")).containsExactly("US_SSN:123-45-6789", "US_SSN:123 45 6789",
                "US_SSN:078051120");
    }

    @Test
    void numbersTheSsaNeverIssuesAndBareNineDigitsWithoutContextAreNotSsns() {
        assertThat(found("000-12-3456 666-12-3456 900-12-3456 999-12-3456 123-00-4567 123-45-0000; the parcel weighs 123456789 grams")).isEmpty();
    }

    @Test
    void cardNumbersOfEveryNetworkCompactOrGroupedAreFound() {
        assertThat(found("4111 1111 1111 1111, 4111-1111-1111-1111, 4111111111111111, 378282246310005, 3782 822463 10005, "
                + "5555555555554444, 2223003122003222, 6011111111111117, 3530111333300000, 30569309025904, 6200000000000005"))
                .containsExactly("CREDIT_CARD:4111 1111 1111 1111", "CREDIT_CARD:4111-1111-1111-1111", "CREDIT_CARD:4111111111111111",
                        "CREDIT_CARD:378282246310005", "CREDIT_CARD:3782 822463 10005", "CREDIT_CARD:5555555555554444",
                        "CREDIT_CARD:2223003122003222", "CREDIT_CARD:6011111111111117", "CREDIT_CARD:3530111333300000",
                        "CREDIT_CARD:30569309025904", "CREDIT_CARD:6200000000000005");
    }

    @Test
    void aCardFollowedByAnotherNumberIsFoundWithoutIt() {
        assertThat(found("card 4111 1111 1111 1111 2029")).containsExactly("CREDIT_CARD:4111 1111 1111 1111");
    }

    @Test
    void numbersFailingLuhnOrWithoutAnIssuerOrMixingSeparatorsAreNotCards() {
        assertThat(found("4111 1111 1111 1112, 1234567812345678, 9999999999999995, 4111-1111 1111-1111, timestamp 1700000000000, "
                + "part of 41111111111111111111111")).isEmpty();
    }

    @Test
    void ibansCompactOrInGroupsOfFourAreFoundWhenTheChecksumHolds() {
        assertThat(found("DE89 3704 0044 0532 0130 00, GB82WEST12345698765432, FR14 2004 1010 0505 0001 3M02 606, NL91ABNA0417164300."))
                .containsExactly("IBAN_CODE:DE89 3704 0044 0532 0130 00", "IBAN_CODE:GB82WEST12345698765432",
                        "IBAN_CODE:FR14 2004 1010 0505 0001 3M02 606", "IBAN_CODE:NL91ABNA0417164300");
    }

    @Test
    void ibansWithABadChecksumWrongLengthOrUnknownCountryAreNot() {
        assertThat(found("DE89 3704 0044 0532 0130 01, DE89370400440532013, GB82WEST123456987654321, QQ82WEST12345698765432")).isEmpty();
    }

    @Test
    void anIbansDigitsAreNotAlsoAPhoneNumber() {
        assertThat(found("pay to DE89 3704 0044 0532 0130 00 today")).containsExactly("IBAN_CODE:DE89 3704 0044 0532 0130 00");
    }

    @Test
    void ipv4AddressesWithValidOctetsAreFoundButNotLongerDottedStringsOrVersions() {
        assertThat(found("hosts 192.168.1.10, 10.0.0.1. and 255.255.255.255; not 256.1.1.1, 1.2.3.4.5, 01.02.03.04, v1.2.3.4, version 1.2.3.4"))
                .containsExactly("IP_ADDRESS:192.168.1.10", "IP_ADDRESS:10.0.0.1", "IP_ADDRESS:255.255.255.255");
    }

    @Test
    void ipv6AddressesFullCompressedZonedAndWithEmbeddedIpv4AreFound() {
        assertThat(found("2001:0db8:85a3:0000:0000:8a2e:0370:7334, 2001:db8::1, fe80::1%eth0, ::1, ::ffff:192.0.2.128, [2001:db8::2]:8080, fe80::"))
                .containsExactly("IP_ADDRESS:2001:0db8:85a3:0000:0000:8a2e:0370:7334", "IP_ADDRESS:2001:db8::1", "IP_ADDRESS:fe80::1%eth0",
                        "IP_ADDRESS:::1", "IP_ADDRESS:::ffff:192.0.2.128", "IP_ADDRESS:2001:db8::2", "IP_ADDRESS:fe80::");
    }

    @Test
    void timesMacAddressesAndScopeOperatorsAreNotIpv6() {
        assertThat(found("at 12:30:45, MAC 00:1A:2B:3C:4D:5E, std::vector and Foo::bar, 1:2:3:4:5:6:7, 1::2::3, 12345::1, 1:2:3:4:5:6:7:8:9")).isEmpty();
    }

    @Test
    void identifiersThatLookRandomAreNotPii() {
        assertThat(found("uuid 123e4567-e89b-12d3-a456-426614174000, commit 9fceb02d0ae598e95dc970b74767f19372d61af8, "
                + "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, md5 d41d8cd98f00b204e9800998ecf8427e, "
                + "ISBN 978-3-16-148410-0 and 0-306-40615-2, released 2024-03-15T10:30:00Z, build 1.24.3")).isEmpty();
    }

    @Test
    void overlappingCandidatesKeepTheMoreSpecificSoASecretUrlsEmailPartIsNotReported() {
        assertThat(found("postgres://admin:S3cr3tPass9@db.example.com:5432/app")).containsExactly("SECRET:S3cr3tPass9");
    }

    @Test
    void resultsAreSortedAndNeverOverlap() {
        String text = "ann@example.com 4111 1111 1111 1111 +44 20 7946 0958 10.0.0.1 AKIAIOSFODNN7EXAMPLE 123-45-6789";
        List<PiiEntity> entities = SCANNER.detect(text);
        assertThat(entities).hasSize(6);
        for (int i = 1; i < entities.size(); i++) assertThat(entities.get(i).start()).isGreaterThanOrEqualTo(entities.get(i - 1).end());
    }

    @Test
    void hostileInputOfAMegabyteIsScannedInBoundedTime() {
        Random random = new Random(9);
        String base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        StringBuilder base64 = new StringBuilder(), digits = new StringBuilder();
        for (int i = 0; i < 1 << 20; i++) {
            base64.append(base64Alphabet.charAt(random.nextInt(64)));
            digits.append((char) ('0' + random.nextInt(10)));
        }
        List<String> inputs = List.of(digits.toString(), "@".repeat(1 << 20), "a@".repeat(1 << 19), base64.toString(), "eyJ.".repeat(1 << 18),
                ":".repeat(1 << 20), "1.".repeat(1 << 19), "1 ".repeat(1 << 19), "4111 ".repeat(1 << 18), "DE89 ".repeat(1 << 18),
                "x://a:".repeat(1 << 17), "+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 ".repeat(1 << 15), "-----BEGIN PRIVATE KEY-----".repeat(40_000), "token=".repeat(1 << 17) + "a1");
        // A quadratic scan of one megabyte takes minutes; the linear one well under a second.
        for (String input : inputs) assertTimeoutPreemptively(Duration.ofSeconds(20), () -> SCANNER.detect(input));
    }

    @Test
    void randomTextsOfEntityCharactersNeverThrowAndAlwaysGiveSortedDisjointSpansInsideTheText() {
        String alphabet = "0123456789      +-.()@:/_=#%abcdefxyzABCDEFXYZ\n\t'\"<>{}[]０１２ –é😀";
        Random random = new Random(11);
        for (int run = 0; run < 2_000; run++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(200);
            while (text.length() < length) text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            List<PiiEntity> entities = SCANNER.detect(text.toString());
            int end = 0;
            for (PiiEntity e : entities) {
                assertThat(e.start()).isGreaterThanOrEqualTo(end);
                assertThat(e.end()).isGreaterThan(e.start()).isLessThanOrEqualTo(text.length());
                end = e.end();
            }
        }
    }

    @Test
    void entitiesNextToEmojiAndSurrogatePairsKeepTheirSpans() {
        String text = "😀+44 20 7946 0958😀 😀4111 1111 1111 1111😀";
        assertThat(found(text)).containsExactly("PHONE_NUMBER:+44 20 7946 0958", "CREDIT_CARD:4111 1111 1111 1111");
    }

    @Test
    void anEmptyTextHasNoEntities() {
        assertThat(SCANNER.detect("")).isEmpty();
    }

    @Test
    void findingFromTheNextDigitFindsWhatAPlainScanFinds() {
        java.util.regex.Pattern regex = java.util.regex.Pattern.compile("(?<![\\d-])(\\d{3})([- ])(\\d{2})\\2(\\d{4})(?![\\d]|-\\d)");
        Random random = new Random(3);
        String alphabet = "0123456789- a.";
        for (int t = 0; t < 2_000; t++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(120); i > 0; i--) text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            List<String> expected = regex.matcher(text).results().map(r -> r.start() + ":" + r.group()).toList();
            List<String> found = new java.util.ArrayList<>();
            java.util.regex.Matcher m = regex.matcher(text);
            for (int at = 0; PiiScanner.findFromDigit(m, text.toString(), at); at = m.end()) found.add(m.start() + ":" + m.group());
            assertThat(found).as(text.toString()).isEqualTo(expected);
        }
    }
}
