package dev.keel.guard;

import java.util.List;

/**
 * Finds email addresses by their '@' and grows each side within the limits of RFC 5321: a local
 * part of letters, digits and {@code ._%+-'} (not starting or ending with a dot, no two dots in a
 * row), a domain of at least two labels ending in an alphabetic top-level domain. Letters may be of
 * any script. Looks at most {@link #MAX_LOCAL} characters left and {@link #MAX_DOMAIN} right of each
 * '@', so its time is linear in the text.
 */
final class EmailFinder implements PiiScanner.Finder {
    /** RFC 5321's limit on a local part; a longer run before '@' is not an address. */
    private static final int MAX_LOCAL = 64;
    /** RFC 1035's limit on a domain name. */
    private static final int MAX_DOMAIN = 253;
    /** RFC 1035's limit on one label. */
    private static final int MAX_LABEL = 63;
    /** The shortest top-level domain ({@code .io}, {@code .de}). */
    private static final int MIN_TLD = 2;

    @Override
    public void find(String text, List<PiiEntity> out) {
        int at = text.indexOf('@');
        while (at >= 0) {
            int next = at + 1;
            int start = localStart(text, at);
            int end = start < 0 ? -1 : domainEnd(text, at + 1);
            if (end > 0) {
                out.add(new PiiEntity("EMAIL_ADDRESS", start, end));
                next = end;
            }
            at = text.indexOf('@', next);
        }
    }

    /** Where the local part ending at {@code at} starts, or -1 if there is none or it is malformed. */
    private static int localStart(String text, int at) {
        int start = at;
        while (start > 0 && isLocal(text.charAt(start - 1))) {
            if (at - --start > MAX_LOCAL) return -1;
        }
        while (start < at && !Character.isLetterOrDigit(text.charAt(start))) start++; // quotes, dots or dashes before the name
        if (start == at || text.charAt(at - 1) == '.' || inUrlUserInfo(text, start)) return -1;
        for (int i = start + 1; i < at; i++) {
            if (text.charAt(i) == '.' && text.charAt(i - 1) == '.') return -1;
        }
        return start;
    }

    /** {@code scheme://user:password@host}: the part before '@' is a URL's password, not a mailbox. */
    private static boolean inUrlUserInfo(String text, int localStart) {
        if (localStart == 0 || text.charAt(localStart - 1) != ':') return false;
        int tokenStart = localStart - 1;
        while (tokenStart > 0 && localStart - tokenStart <= MAX_LOCAL * 4 && !Character.isWhitespace(text.charAt(tokenStart - 1))) tokenStart--;
        return text.substring(tokenStart, localStart).contains("://");
    }

    /** Where the domain starting at {@code from} ends, or -1 if it is not a valid domain name. */
    private static int domainEnd(String text, int from) {
        int end = from;
        while (end < text.length() && isDomain(text.charAt(end))) {
            if (++end - from > MAX_DOMAIN) return -1;
        }
        while (end > from && (text.charAt(end - 1) == '.' || text.charAt(end - 1) == '-')) end--; // sentence punctuation
        int labels = 0, labelStart = from;
        for (int i = from; i <= end; i++) {
            if (i < end && text.charAt(i) != '.') continue;
            int length = i - labelStart;
            if (length == 0 || length > MAX_LABEL || text.charAt(labelStart) == '-' || text.charAt(i - 1) == '-') return -1;
            labels++;
            if (i == end && !isTopLevel(text, labelStart, i)) return -1;
            labelStart = i + 1;
        }
        return labels >= 2 ? end : -1;
    }

    private static boolean isTopLevel(String text, int start, int end) {
        if (text.startsWith("xn--", start)) return true;
        if (end - start < MIN_TLD) return false;
        for (int i = start; i < end; i++) {
            if (!Character.isLetter(text.charAt(i))) return false;
        }
        return true;
    }

    private static boolean isLocal(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'';
    }

    private static boolean isDomain(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '-';
    }
}
