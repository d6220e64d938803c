package dev.keel.guard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds payment card numbers (CREDIT_CARD: 13 to 19 digits, compact or in groups separated by one
 * kind of space or dash, with a known issuer prefix and a valid Luhn check digit) and IBANs
 * (IBAN_CODE: a country of the IBAN registry, that country's length, compact or in groups of four,
 * and a valid ISO 7064 mod-97 checksum). A number inside a longer run of digits is never reported:
 * it is part of something else.
 */
final class AccountNumberFinder implements PiiScanner.Finder {
    /** ISO 7812: card numbers have 13 to 19 digits. */
    private static final int MIN_CARD_DIGITS = 13, MAX_CARD_DIGITS = 19;

    /** A run of up to 19 digits with single spaces or dashes, not inside a longer run of digits. */
    private static final Pattern CARD_RUN = Pattern.compile("(?<![\\d-])\\d(?:[ -]?\\d){12,18}(?![\\d]|-\\d)");

    /** Issuer prefixes (IIN ranges) of the card networks in use: Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro. */
    private static final Pattern ISSUER = Pattern.compile(
            "4\\d{12}(?:\\d{3}){0,2}"                                                    // Visa: 13, 16 or 19
                    + "|(?:5[1-5]\\d{2}|222[1-9]|22[3-9]\\d|2[3-6]\\d{2}|27[01]\\d|2720)\\d{12}" // Mastercard: 16
                    + "|3[47]\\d{13}"                                                    // American Express: 15
                    + "|(?:6011|64[4-9]\\d|65\\d{2})\\d{12,15}"                         // Discover: 16-19
                    + "|35(?:2[89]|[3-8]\\d)\\d{12,15}"                                  // JCB: 16-19
                    + "|3(?:0[0-5]|[689]\\d)\\d{11,16}"                                  // Diners Club: 14-19
                    + "|62\\d{14,17}"                                                    // UnionPay: 16-19
                    + "|(?:50|5[6-8]|6[37]\\d)\\d{11,17}");                              // Maestro: 13-19

    /** A country code and two check digits starting a word: where an IBAN may begin. */
    private static final Pattern IBAN_START = Pattern.compile("(?<![\\p{L}\\p{N}])([A-Za-z]{2})(\\d{2})");

    /** IBAN length per country, from the SWIFT IBAN registry. */
    private static final Map<String, Integer> IBAN_LENGTHS = Map.ofEntries(
            Map.entry("AD", 24), Map.entry("AE", 23), Map.entry("AL", 28), Map.entry("AT", 20), Map.entry("AZ", 28), Map.entry("BA", 20),
            Map.entry("BE", 16), Map.entry("BG", 22), Map.entry("BH", 22), Map.entry("BI", 27), Map.entry("BR", 29), Map.entry("BY", 28),
            Map.entry("CH", 21), Map.entry("CR", 22), Map.entry("CY", 28), Map.entry("CZ", 24), Map.entry("DE", 22), Map.entry("DJ", 27),
            Map.entry("DK", 18), Map.entry("DO", 28), Map.entry("EE", 20), Map.entry("EG", 29), Map.entry("ES", 24), Map.entry("FI", 18),
            Map.entry("FK", 18), Map.entry("FO", 18), Map.entry("FR", 27), Map.entry("GB", 22), Map.entry("GE", 22), Map.entry("GI", 23),
            Map.entry("GL", 18), Map.entry("GR", 27), Map.entry("GT", 28), Map.entry("HR", 21), Map.entry("HU", 28), Map.entry("IE", 22),
            Map.entry("IL", 23), Map.entry("IQ", 23), Map.entry("IS", 26), Map.entry("IT", 27), Map.entry("JO", 30), Map.entry("KW", 30),
            Map.entry("KZ", 20), Map.entry("LB", 28), Map.entry("LC", 32), Map.entry("LI", 21), Map.entry("LT", 20), Map.entry("LU", 20),
            Map.entry("LV", 21), Map.entry("LY", 25), Map.entry("MC", 27), Map.entry("MD", 24), Map.entry("ME", 22), Map.entry("MK", 19),
            Map.entry("MN", 20), Map.entry("MR", 27), Map.entry("MT", 31), Map.entry("MU", 30), Map.entry("NI", 28), Map.entry("NL", 18),
            Map.entry("NO", 15), Map.entry("OM", 23), Map.entry("PK", 24), Map.entry("PL", 28), Map.entry("PS", 29), Map.entry("PT", 25),
            Map.entry("QA", 29), Map.entry("RO", 24), Map.entry("RS", 22), Map.entry("RU", 33), Map.entry("SA", 24), Map.entry("SC", 31),
            Map.entry("SD", 18), Map.entry("SE", 24), Map.entry("SI", 19), Map.entry("SK", 24), Map.entry("SM", 27), Map.entry("SO", 23),
            Map.entry("ST", 25), Map.entry("SV", 28), Map.entry("TL", 23), Map.entry("TN", 24), Map.entry("TR", 26), Map.entry("UA", 29),
            Map.entry("VA", 22), Map.entry("VG", 24), Map.entry("XK", 20), Map.entry("YE", 30));

    /** An IBAN written in groups has four characters per group. */
    private static final int IBAN_GROUP = 4;

    @Override
    public void find(String text, List<PiiEntity> out) {
        findCards(text, out);
        findIbans(text, out);
    }

    private static void findCards(String text, List<PiiEntity> out) {
        Matcher m = CARD_RUN.matcher(text);
        for (int at = 0; PiiScanner.findFromDigit(m, text, at); at = m.end()) {
            List<int[]> groups = groups(text, m.start(), m.end());
            for (int n = groups.size(); n > 0; n--) {
                int end = groups.get(n - 1)[1];
                String digits = text.substring(m.start(), end).replaceAll("[ -]", "");
                if (digits.length() >= MIN_CARD_DIGITS && digits.length() <= MAX_CARD_DIGITS && wellGrouped(text, groups.subList(0, n))
                        && ISSUER.matcher(digits).matches() && luhn(digits)) {
                    out.add(new PiiEntity("CREDIT_CARD", m.start(), end));
                    break;
                }
            }
        }
    }

    /** The digit groups of a run as [start, end) pairs. */
    private static List<int[]> groups(String text, int start, int end) {
        List<int[]> groups = new ArrayList<>();
        int from = start;
        for (int i = start; i <= end; i++) {
            if (i == end || !Character.isDigit(text.charAt(i))) {
                groups.add(new int[] {from, i});
                from = i + 1;
            }
        }
        return groups;
    }

    /** One compact number, or groups of 4 to 6 digits (the last 1 to 6) separated by one kind of separator. */
    private static boolean wellGrouped(String text, List<int[]> groups) {
        if (groups.size() == 1) return true;
        char separator = text.charAt(groups.get(0)[1]);
        for (int i = 0; i < groups.size(); i++) {
            int length = groups.get(i)[1] - groups.get(i)[0];
            boolean last = i == groups.size() - 1;
            if (length > 6 || (!last && length < 4)) return false;
            if (!last && text.charAt(groups.get(i)[1]) != separator) return false;
        }
        return true;
    }

    static boolean luhn(String digits) {
        int sum = 0;
        for (int i = digits.length() - 1, k = 0; i >= 0; i--, k++) {
            int d = digits.charAt(i) - '0';
            if (k % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            sum += d;
        }
        return sum % 10 == 0;
    }

    private static void findIbans(String text, List<PiiEntity> out) {
        Matcher m = IBAN_START.matcher(text);
        int from = 0;
        while (m.find(from)) {
            from = m.end();
            Integer length = IBAN_LENGTHS.get(m.group(1).toUpperCase(java.util.Locale.ROOT));
            if (length == null) continue;
            int end = ibanEnd(text, m.start(), length);
            if (end > 0) {
                out.add(new PiiEntity("IBAN_CODE", m.start(), end));
                from = end;
            }
        }
    }

    /** Where an IBAN of {@code length} characters starting at {@code start} ends, or -1 if there is none there. */
    private static int ibanEnd(String text, int start, int length) {
        StringBuilder compact = new StringBuilder(length);
        boolean grouped = start + IBAN_GROUP < text.length() && text.charAt(start + IBAN_GROUP) == ' ';
        int i = start;
        while (compact.length() < length && i < text.length()) {
            char c = text.charAt(i);
            if (grouped && c == ' ' && compact.length() % IBAN_GROUP == 0 && compact.length() > 0 && text.charAt(i - 1) != ' ') {
                i++;
                continue;
            }
            if (c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
                compact.append(c);
                i++;
            } else {
                return -1;
            }
        }
        if (compact.length() < length || i < text.length() && Character.isLetterOrDigit(text.charAt(i))) return -1;
        return mod97(compact.toString()) == 1 ? i : -1;
    }

    /** ISO 7064 MOD 97-10 of an IBAN: the first four characters moved to the end, letters as 10 to 35. */
    static int mod97(String iban) {
        String rearranged = iban.substring(4) + iban.substring(0, 4);
        int rest = 0;
        for (int i = 0; i < rearranged.length(); i++) {
            int v = Character.digit(rearranged.charAt(i), 36);
            rest = v < 10 ? (rest * 10 + v) % 97 : (rest * 100 + v) % 97;
        }
        return rest;
    }
}
