package dev.keel.guard;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds phone numbers with libphonenumber ({@link PhoneNumberUtil.Leniency#VALID}: the number must
 * be a valid one of its country): numbers with a {@code +} country code in any region, national
 * formats in the configured regions. libphonenumber only sees short runs of digits and phone
 * punctuation (so its time stays linear in the text), and its matches are dropped when the digits
 * are something else: part of a longer number (a card, an account), a date, a time, an SSN, a dotted IPv4
 * or version, an ISBN, or a number labelled as an order, invoice, ticket, reference…; digits without any
 * separator count only with a trunk {@code 0}, as a North American number, or after a phone word, and a national
 * number without a trunk {@code 0} or a phone word needs nine digits.
 */
final class PhoneFinder implements PiiScanner.Finder {
    /** The fewest digits of a national number with its area code in the default regions. */
    private static final int MIN_DIGITS = 7;
    /** A national number without trunk prefix, parentheses or phone word needs this many digits (US 10, ES 9, IT 10). */
    private static final int MIN_UNPREFIXED_DIGITS = 9;
    /** ITU E.164 allows 15 digits with the country code; a national number never has more (a trunk prefix included). */
    private static final int MAX_NATIONAL_DIGITS = 15;
    /** A run longer than this (a table of numbers, a megabyte of digits) holds no single phone number to find. */
    private static final int MAX_RUN = 64;
    /** libphonenumber's attempts per run; a run of at most 64 characters has few candidates. */
    private static final long MAX_TRIES = 16;
    /** How far before a number a context word may stand. */
    private static final int CONTEXT_WINDOW = 32;

    private static final Pattern DATE = Pattern.compile(
            "\\(?\\d{4}[-./]\\d{1,2}[-./]\\d{1,2}\\)?|\\(?\\d{1,2}[-./]\\d{1,2}[-./](?:\\d{2}|\\d{4})\\)?");
    private static final Pattern SSN_SHAPE = Pattern.compile("\\d{3}-\\d{2}-\\d{4}");
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern PHONE_WORD = Pattern.compile(
            "(?i)(?:phone|tel\\b|telephone|hotline|helpline|call|mobile|cell|fax|whatsapp|sms|text me|contact|reach|dial|ring|handy|portable|telefon|número|numero)");
    /** A label naming another kind of number right before the digits: "order 4155552671", "Ticket #: 020 7946 0958". */
    private static final Pattern OTHER_NUMBER_LABEL = Pattern.compile(
            "(?i)\\b(?:order|invoice|inv|ref|reference|tracking|ticket|isbn|serial|sku|account|acct|iban|version|build|patent|id|"
                    + "transaction|confirmation|booking|case|lot|zip|postal code|po)\\s*(?:number|num\\.?|no\\.?|nr\\.?|id)?\\s*[:#]?\\s*#?\\s*$"
                    + "|(?i)\\b(?:part|item|product|model|customer|member|policy|tax|vat|employee|student)\\s*(?:number|num\\.?|no\\.?|nr\\.?|id|#)"
                    + "\\s*[:#]?\\s*$");

    /** The unknown region: libphonenumber then reads only numbers with a country code. */
    private static final String INTERNATIONAL = "ZZ";

    private final PhoneNumberUtil util = PhoneNumberUtil.getInstance();
    private final List<String> regions;

    PhoneFinder(List<String> regions) {
        this.regions = List.copyOf(regions);
    }

    @Override
    public void find(String text, List<PiiEntity> out) {
        int i = 0, n = text.length();
        while (i < n) {
            if (!Character.isDigit(text.charAt(i)) && text.charAt(i) != '+' && text.charAt(i) != '(') {
                i++;
                continue;
            }
            int start = i++, digits = Character.isDigit(text.charAt(start)) ? 1 : 0;
            while (i < n && isRunChar(text.charAt(i))) {
                if (Character.isDigit(text.charAt(i))) digits++;
                i++;
            }
            if (digits >= MIN_DIGITS && i - start <= MAX_RUN) findIn(text, start, i, out);
        }
    }

    /**
     * Finds the numbers of one run. A national number must fill its run (digits next to it make it part of something else), so
     * a run shaped like a date, an SSN or a dotted quad, or with more digits than any national number, is skipped at once.
     * libphonenumber gives up on a {@code +} number followed by more digits in the same run ("+44 20 7946 0958 10.0.0.1"), so
     * such a run where it finds none is tried again without its last word, while enough digits remain.
     */
    private void findIn(String text, int start, int end, List<PiiEntity> out) {
        int trimmed = end;
        while (trimmed > start && !Character.isDigit(text.charAt(trimmed - 1)) && text.charAt(trimmed - 1) != ')') trimmed--;
        String run = text.substring(start, trimmed);
        boolean international = run.charAt(0) == '+';
        if (!international && (digits(text, start, trimmed) > MAX_NATIONAL_DIGITS || DATE.matcher(run).matches()
                || SSN_SHAPE.matcher(run).matches() || DOTTED_QUAD.matcher(run).matches())) {
            return;
        }
        if (!international) {
            findNational(text, start, trimmed, out);
            return;
        }
        while (!findInternational(text, start, end, out)) {
            int cut = text.lastIndexOf(' ', end - 1);
            while (cut > start && text.charAt(cut - 1) == ' ') cut--;
            if (cut <= start || digits(text, start, cut) < MIN_DIGITS) return;
            end = cut;
        }
    }

    /** A run without a country code is a number when it is a whole valid number of one of the regions. */
    private void findNational(String text, int start, int end, List<PiiEntity> out) {
        boolean glued = start > 0 && Character.isLetter(text.charAt(start - 1)) || end < text.length() && Character.isLetter(text.charAt(end));
        if (glued) return;
        String run = text.substring(start, end);
        for (String region : regions) {
            try {
                Phonenumber.PhoneNumber number = util.parse(run, region);
                if (util.isValidNumberForRegion(number, region)) {
                    if (plausible(text, start, end, run, number.getCountryCode())) out.add(new PiiEntity("PHONE_NUMBER", start, end));
                    return;
                }
            } catch (NumberParseException notANumberOfThisRegion) {
                // the next region may read it
            }
        }
    }

    private boolean findInternational(String text, int start, int end, List<PiiEntity> out) {
        int from = Math.max(0, start - 1); // one character either side lets libphonenumber see a letter glued to the digits
        CharSequence window = text.subSequence(from, Math.min(text.length(), end + 1));
        boolean found = false;
        // A "+" number reads the same in every region.
        for (PhoneNumberMatch match : util.findNumbers(window, INTERNATIONAL, PhoneNumberUtil.Leniency.VALID, MAX_TRIES)) {
            int s = from + match.start(), e = from + match.end();
            if (plausible(text, s, e, match.rawString(), match.number().getCountryCode())) {
                out.add(new PiiEntity("PHONE_NUMBER", s, e));
                found = true;
            }
        }
        return found;
    }

    private static int digits(String text, int start, int end) {
        int n = 0;
        for (int i = start; i < end; i++) {
            if (Character.isDigit(text.charAt(i))) n++;
        }
        return n;
    }

    private static boolean plausible(String text, int s, int e, String raw, int countryCode) {
        if (partOfLongerNumber(text, s, e) || DATE.matcher(raw).matches() || SSN_SHAPE.matcher(raw).matches() || DOTTED_QUAD.matcher(raw).matches() || isbn(raw)) return false;
        int windowStart = Math.max(0, s - CONTEXT_WINDOW);
        if (OTHER_NUMBER_LABEL.matcher(text).region(windowStart, s).find()) return false;
        boolean phoneWord = PHONE_WORD.matcher(text).region(windowStart, s).find();
        if (raw.startsWith("+") || raw.startsWith("0") || phoneWord) return true;
        if (raw.chars().allMatch(Character::isDigit)) return countryCode == 1 && raw.length() <= 11;
        return digits(raw, 0, raw.length()) >= MIN_UNPREFIXED_DIGITS; // "2024-2025" and "1234 5678" are rarely phone numbers
    }

    /**
     * A national number with digits right before or after it (across one separator), or a word glued with a dash: part of
     * something else, such as a card number that failed its check digit.
     */
    private static boolean partOfLongerNumber(String text, int s, int e) {
        if (text.charAt(s) == '+') return false; // a number written with its country code stands on its own
        int b = s - 1;
        if (b >= 0 && isSeparator(text.charAt(b))) b--;
        if (b >= 0 && (Character.isDigit(text.charAt(b)) || text.charAt(s - 1) == '-' && Character.isLetter(text.charAt(b)))) return true;
        int a = e;
        if (a < text.length() && isSeparator(text.charAt(a))) a++;
        return a < text.length() && (Character.isDigit(text.charAt(a)) || text.charAt(e) == '-' && Character.isLetter(text.charAt(a)));
    }

    /** A hyphenated ISBN-10 (four groups) or ISBN-13 (five groups) with a valid check digit. */
    private static boolean isbn(String raw) {
        int groups = raw.split("-", -1).length;
        String d = raw.replace("-", "");
        if (groups == 5 && d.length() == 13 && (d.startsWith("978") || d.startsWith("979"))) {
            int sum = 0;
            for (int i = 0; i < 13; i++) sum += (d.charAt(i) - '0') * (i % 2 == 0 ? 1 : 3);
            return sum % 10 == 0;
        }
        if (groups == 4 && d.length() == 10) {
            int sum = 0;
            for (int i = 0; i < 10; i++) sum += (d.charAt(i) - '0') * (10 - i);
            return sum % 11 == 0;
        }
        return false;
    }

    private static boolean isRunChar(char c) {
        return Character.isDigit(c) || c == '\u00A0' || isSeparator(c) || c == '(' || c == ')'; // a '+' starts the next run
    }

    private static boolean isSeparator(char c) {
        return c == '-' || c == '.' || c == ' ' || c >= '\u2010' && c <= '\u2015';
    }
}
