package dev.keel.guard;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds IP addresses. IPv4: four decimal octets 0-255 without leading zeros, not part of a longer
 * dotted string ({@code 1.2.3.4.5}) or a version ({@code v1.2.3.4}). IPv6: the full, compressed
 * ({@code ::}) and IPv4-embedded forms with an optional zone ({@code %eth0}), parsed and validated,
 * so times ({@code 12:30:45}), MAC addresses and {@code Type::member} are not addresses.
 */
final class IpAddressFinder implements PiiScanner.Finder {
    private static final String OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    private static final Pattern V4 = Pattern.compile("(?<![\\w.])" + OCTET + "(?:\\." + OCTET + "){3}(?![\\w]|\\.\\d)");
    private static final Pattern VERSION_BEFORE = Pattern.compile("(?i)(?:version|ver\\.?|release|section|chapter|§)\\s*$");

    /** The longest textual IPv6 address: eight groups with an embedded IPv4 address. */
    private static final int MAX_V6 = 45;
    /** Interface names in zones are short ({@code eth0}, {@code en0}, {@code 12}). */
    private static final int MAX_ZONE = 32;
    private static final int V6_GROUPS = 8;

    @Override
    public void find(String text, List<PiiEntity> out) {
        Matcher m = V4.matcher(text);
        for (int at = 0; PiiScanner.findFromDigit(m, text, at); at = m.end()) {
            if (!VERSION_BEFORE.matcher(text).region(Math.max(0, m.start() - 12), m.start()).find()) {
                out.add(new PiiEntity("IP_ADDRESS", m.start(), m.end()));
            }
        }
        findV6(text, out);
    }

    private static void findV6(String text, List<PiiEntity> out) {
        int i = 0, n = text.length();
        while (i < n) {
            if (!isV6Char(text.charAt(i))) {
                i++;
                continue;
            }
            int start = i;
            while (i < n && isV6Char(text.charAt(i))) i++;
            int end = i;
            while (end > start && text.charAt(end - 1) == '.') end--; // a full stop after the address
            if (end - start > MAX_V6 || start > 0 && isWordChar(text.charAt(start - 1))) continue;
            int spanEnd = end;
            if (end == i && end < n && text.charAt(end) == '%') {
                int z = end + 1;
                while (z < n && z - end <= MAX_ZONE && (Character.isLetterOrDigit(text.charAt(z)) || text.charAt(z) == '_')) z++;
                if (z > end + 1 && z - end <= MAX_ZONE) spanEnd = z;
            }
            if (spanEnd < n && isWordChar(text.charAt(spanEnd))) continue;
            if (isV6(text.substring(start, end))) out.add(new PiiEntity("IP_ADDRESS", start, spanEnd));
        }
    }

    /** Whether {@code s} is a textual IPv6 address (RFC 4291 section 2.2), without zone. */
    static boolean isV6(String s) {
        int colons = 0;
        boolean digit = false;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ':') colons++;
            else if (Character.isDigit(s.charAt(i))) digit = true;
        }
        if (colons < 2) return false;
        int compressed = s.indexOf("::");
        if (compressed >= 0 && s.indexOf("::", compressed + 1) >= 0) return false;
        String[] parts = compressed >= 0 ? (s.substring(0, compressed) + ":\0:" + s.substring(compressed + 2)).split(":", -1) : s.split(":", -1);
        int groups = 0;
        for (int p = 0; p < parts.length; p++) {
            String part = parts[p];
            if (part.equals("\0")) continue;
            if (part.isEmpty()) {
                boolean besideCompression = p == 0 && parts.length > 1 && parts[1].equals("\0")
                        || p == parts.length - 1 && p > 0 && parts[p - 1].equals("\0");
                if (besideCompression) continue; // "::1" and "fe80::" leave an empty end
                return false;
            }
            if (part.indexOf('.') >= 0) {
                if (p != parts.length - 1 || !V4.matcher(part).matches()) return false;
                groups += 2;
            } else if (part.length() > 4 || !isHex(part)) {
                return false;
            } else {
                groups++;
            }
        }
        boolean complete = compressed >= 0 ? groups < V6_GROUPS : groups == V6_GROUPS;
        // "dead::beef" and "a::b" read as text more often than as addresses: require a digit or three groups.
        return complete && groups >= 1 && (digit || groups >= 3);
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0 || s.charAt(i) > 'f') return false;
        }
        return true;
    }

    private static boolean isV6Char(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
