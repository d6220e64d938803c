package dev.keel.guard;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds phone numbers with libphonenumber ({@link PhoneNumberUtil.Leniency#VALID}: the number must
 * be a valid one of its country): numbers with a {@code +} country code in any region, national
 * formats in the configured regions. libphonenumber only sees short runs of digits and phone
 * punctuation (so its time stays linear in the text), and its matches are dropped when the digits
 * are something else: part of a longer number (a card, an account), a date, a time, an SSN, a dotted IPv4
 * or version, an ISBN, or a number after an order/invoice/reference word; nine to eleven bare digits
 * count only with a trunk {@code 0}, as a North American number, or after a phone word.
 */
final class PhoneFinder implements PiiScanner.Finder {
    /** The fewest digits of a national number with its area code in the default regions. */
    private static final int MIN_DIGITS = 7;
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
            "(?i)(?:phone|tel\\b|telephone|call|mobile|cell|fax|whatsapp|sms|text me|contact|reach|dial|ring|handy|portable|telefon|número|numero)");
    private static final Pattern OTHER_NUMBER_WORD = Pattern.compile(
            "(?i)(?:order|invoice|inv\\b|ref\\b|reference|tracking|ticket|isbn|serial|sku|account|acct|iban|version|build|patent|"
                    + "\\bid\\b|#|transaction|confirmation|booking|policy|customer|member|part|batch|lot\\b|zip|postal)");

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
     * Finds the numbers of one run. libphonenumber gives up on a number followed by more digits in the same run ("+44 20 7946 0958
     * 10.0.0.1"), so a run where it finds none is tried again without its last word, while enough digits remain.
     */
    private void findIn(String text, int start, int end, List<PiiEntity> out) {
        while (true) {
            if (findInWindow(text, start, end, out)) return;
            int cut = text.lastIndexOf(' ', end - 1);
            while (cut > start && text.charAt(cut - 1) == ' ') cut--;
            if (cut <= start || digits(text, start, cut) < MIN_DIGITS) return;
            end = cut;
        }
    }

    private boolean findInWindow(String text, int start, int end, List<PiiEntity> out) {
        int from = Math.max(0, start - 1); // one character either side lets libphonenumber see a letter glued to the digits
        CharSequence window = text.subSequence(from, Math.min(text.length(), end + 1));
        // A "+" number reads the same in every region, so one pass finds it.
        List<String> passes = regions.isEmpty() ? List.of("ZZ") : text.charAt(start) == '+' ? regions.subList(0, 1) : regions;
        boolean found = false;
        for (String region : passes) {
            for (PhoneNumberMatch match : util.findNumbers(window, region, PhoneNumberUtil.Leniency.VALID, MAX_TRIES)) {
                int s = from + match.start(), e = from + match.end();
                if (plausible(text, s, e, match)) {
                    out.add(new PiiEntity("PHONE_NUMBER", s, e));
                    found = true;
                }
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

    private boolean plausible(String text, int s, int e, PhoneNumberMatch match) {
        String raw = match.rawString();
        if (partOfLongerNumber(text, s, e) || DATE.matcher(raw).matches() || SSN_SHAPE.matcher(raw).matches() || DOTTED_QUAD.matcher(raw).matches() || isbn(raw)) return false;
        int windowStart = Math.max(0, s - CONTEXT_WINDOW);
        boolean phoneWord = PHONE_WORD.matcher(text).region(windowStart, s).find();
        if (!phoneWord && OTHER_NUMBER_WORD.matcher(text).region(windowStart, s).find()) return false;
        if (raw.chars().allMatch(Character::isDigit)) {
            return raw.startsWith("0") || phoneWord || match.number().getCountryCode() == 1 && raw.length() <= 11;
        }
        return true;
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

    /** A hyphenated ISBN-10 or ISBN-13 with a valid check digit. */
    private static boolean isbn(String raw) {
        if (raw.indexOf('-') < 0) return false;
        String d = raw.replace("-", "");
        if (d.length() == 13 && (d.startsWith("978") || d.startsWith("979"))) {
            int sum = 0;
            for (int i = 0; i < 13; i++) sum += (d.charAt(i) - '0') * (i % 2 == 0 ? 1 : 3);
            return sum % 10 == 0;
        }
        if (d.length() == 10) {
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
