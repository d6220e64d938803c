package dev.keel.guard;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds phone numbers with libphonenumber: a number must be valid for its country
 * ({@link PhoneNumberUtil#isValidNumber}, what {@code Leniency.VALID} checks): numbers with a
 * {@code +} country code in any region, national formats in the configured regions. Runs of digits
 * and phone punctuation of bounded length are read whole ({@code parse}: cheaper than the search of
 * {@code findNumbers}, and linear in the text), and numbers are dropped when the digits are something
 * else: part of a longer number (a card, an account: more digits in the run), a date, an SSN, a dotted
 * IPv4 or version, an ISBN, or a number labelled as an order, invoice, ticket, reference…; digits without any
 * separator count only with a trunk {@code 0}, as a North American number, or after a phone word, and a national
 * number without a trunk {@code 0} or a phone word needs nine digits.
 */
final class PhoneFinder implements PiiScanner.Finder {
    /** The fewest digits of a national number with its area code in the default regions. */
    private static final int MIN_DIGITS = 7;
    /** A national number without trunk prefix, parentheses or phone word needs this many digits (US 10, ES 9, IT 10). */
    private static final int MIN_UNPREFIXED_DIGITS = 9;
    /** ITU E.164 allows 15 digits with the country code; a national number never has more (a trunk prefix included). */
    private static final int MAX_DIGITS = 15;
    /** A run longer than this (a table of numbers, a megabyte of digits) holds no single phone number to find. */
    private static final int MAX_RUN = 64;
    /** How far before a number a context word may stand. */
    private static final int CONTEXT_WINDOW = 32;

    private static final Pattern DATE = Pattern.compile(
            "\\(?\\d{4}[-./]\\d{1,2}[-./]\\d{1,2}\\)?|\\(?\\d{1,2}[-./]\\d{1,2}[-./](?:\\d{2}|\\d{4})\\)?");
    /** A year-first date starting a run ("2023-04-03 01" in a table): no phone number starts like that. */
    private static final Pattern LEADING_DATE = Pattern.compile("\\d{4}[-./]\\d{1,2}[-./]\\d{1,2}");
    private static final Pattern SSN_SHAPE = Pattern.compile("\\d{3}-\\d{2}-\\d{4}");
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern PHONE_WORD = Pattern.compile(
            "(?i)(?:phone|tel\\b|telephone|hotline|helpline|call|mobile|cell|fax|whatsapp|sms|text me|contact|reach|dial|ring|handy|portable|telefon|número|numero)");
    /** A label naming another kind of number right before the digits: "order 4155552671", "Ticket #: 020 7946 0958". */
    private static final Pattern OTHER_NUMBER_LABEL = Pattern.compile(
            "(?i)\\b(?:order|invoice|inv|ref|reference|tracking|ticket|isbn|serial|sku|account|acct|iban|version|build|patent|id|"
                    + "transaction|confirmation|booking|case|lot|zip|postal code|po)\\s*(?:number|num\\.?|no\\.?|nr\\.?|id)?\\s*[:#]?\\s*#?\\s*$"
                    + "|\\b(?:part|item|product|model|customer|member|policy|tax|vat|employee|student)\\s*(?:number|num\\.?|no\\.?|nr\\.?|id|#)"
                    + "\\s*[:#]?\\s*$");

    /** Digits that may stand before a parenthesised area code: a trunk or country prefix such as "1 (800)". */
    private static final int MAX_PREFIX_BEFORE_AREA_CODE = 2;
    /** How many trailing words a {@code +} run may lose before it is given up: what follows a number is rarely longer. */
    private static final int MAX_SHORTENINGS = 3;
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
     * Finds the number of one run. A number must fill its run (digits next to a national number make it part of something else),
     * so a national run shaped like a date, an SSN or a dotted quad, or with more digits than any national number, is skipped at
     * once, and the others are read whole in each region in turn. A {@code +} run may carry more digits after its number
     * ("+44 20 7946 0958 10.0.0.1"), so one that does not read as a number is read again without its last word, a few times.
     */
    private void findIn(String text, int start, int end, List<PiiEntity> out) {
        int trimmed = endOfDigits(text, start, end);
        if (text.charAt(start) == '(' && text.indexOf(')', start) == trimmed - 1) { // "(020 7946 0958)": parentheses around the number
            start++;
            trimmed = endOfDigits(text, start, trimmed - 1);
        }
        if (start >= trimmed) return;
        String run = text.substring(start, trimmed);
        if (run.charAt(0) != '+') {
            if (digits(text, start, trimmed) > MAX_DIGITS || notNationalShape(run)) return;
            for (String region : regions) {
                if (readAs(text, start, trimmed, region, out)) return;
            }
            return;
        }
        for (int shortening = 0; shortening <= MAX_SHORTENINGS; shortening++) {
            if (digits(text, start, trimmed) <= MAX_DIGITS && readAs(text, start, trimmed, INTERNATIONAL, out)) return;
            int cut = text.lastIndexOf(' ', trimmed - 1);
            if (cut <= start) return;
            trimmed = endOfDigits(text, start, cut);
            if (digits(text, start, trimmed) < MIN_DIGITS) return;
        }
    }

    /**
     * Whether {@code text[start, end)} is a valid number of {@code region} (any region for {@link #INTERNATIONAL}); adds it to
     * {@code out} when it is also plausible in its context.
     */
    private boolean readAs(String text, int start, int end, String region, List<PiiEntity> out) {
        boolean glued = start > 0 && gluing(text.charAt(start - 1)) || end < text.length() && gluing(text.charAt(end));
        if (glued) return false;
        String run = text.substring(start, end);
        try {
            Phonenumber.PhoneNumber number = util.parse(run, region);
            boolean valid = region.equals(INTERNATIONAL) ? util.isValidNumber(number) : util.isValidNumberForRegion(number, region);
            if (valid && plausible(text, start, run, number.getCountryCode())) out.add(new PiiEntity("PHONE_NUMBER", start, end));
            return valid;
        } catch (NumberParseException notANumberOfThisRegion) {
            return false;
        }
    }

    /**
     * A national run that is something else: a date, an SSN, a dotted quad, an ISBN, a parenthesis after more than a trunk or
     * country digit ("542-50 (1968)": pages and a year; an area code comes first, "1 (800) 555-0199"), or dots mixed with other separators ("0.823 0.012").
     */
    private static boolean notNationalShape(String run) {
        int open = run.indexOf('(');
        boolean lateParenthesis = open >= 0 && digits(run, 0, open) > MAX_PREFIX_BEFORE_AREA_CODE;
        boolean dotsMixed = run.indexOf('.') >= 0 && (run.indexOf(' ') >= 0 || run.indexOf('-') >= 0);
        return lateParenthesis || dotsMixed || DATE.matcher(run).matches() || LEADING_DATE.matcher(run).lookingAt() || SSN_SHAPE.matcher(run).matches()
                || DOTTED_QUAD.matcher(run).matches() || isbn(run);
    }

    /** Where the digits of {@code text[start, end)} end: trailing separators dropped, a closing parenthesis kept if one opened. */
    private static int endOfDigits(String text, int start, int end) {
        boolean opened = text.substring(start, end).indexOf('(') >= 0;
        while (end > start && !Character.isDigit(text.charAt(end - 1)) && !(opened && text.charAt(end - 1) == ')')) end--;
        return end;
    }

    private static int digits(String text, int start, int end) {
        int n = 0;
        for (int i = start; i < end; i++) {
            if (Character.isDigit(text.charAt(i))) n++;
        }
        return n;
    }

    /** Whether a valid number {@code raw} at {@code s} reads as a phone number in its context. */
    private static boolean plausible(String text, int s, String raw, int countryCode) {
        if (gluedToAWord(text, s)) return false;
        int windowStart = Math.max(0, s - CONTEXT_WINDOW);
        if (OTHER_NUMBER_LABEL.matcher(text).region(windowStart, s).find()) return false;
        boolean phoneWord = PHONE_WORD.matcher(text).region(windowStart, s).find();
        if (raw.startsWith("+") || raw.startsWith("0") || phoneWord) return true;
        if (raw.chars().allMatch(Character::isDigit)) return countryCode == 1 && raw.length() <= 11;
        return digits(raw, 0, raw.length()) >= MIN_UNPREFIXED_DIGITS; // "2024-2025" and "1234 5678" are rarely phone numbers
    }

    /** Digits glued to a word with a dash ("INV-2023-004211"): a code, not a phone number. */
    private static boolean gluedToAWord(String text, int s) {
        return s >= 2 && text.charAt(s - 1) == '-' && Character.isLetter(text.charAt(s - 2));
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

    /** A letter or URL punctuation right next to the digits: they are part of a word, a path or a query ("/e/075678398926/"). */
    private static boolean gluing(char c) {
        return Character.isLetter(c) || "/=_&?#%@".indexOf(c) >= 0;
    }

    private static boolean isRunChar(char c) {
        return Character.isDigit(c) || c == '\u00A0' || isSeparator(c) || c == '(' || c == ')'; // a '+' starts the next run
    }

    private static boolean isSeparator(char c) {
        return c == '-' || c == '.' || c == ' ' || c >= '\u2010' && c <= '\u2015';
    }
}
