package dev.keel.agent;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * The address policy of {@code http_get}: which host names it may fetch (the allow-list) and which resolved addresses
 * it may connect to (public ones only). Every address a name resolves to is checked, and only checked addresses are
 * ever handed to the HTTP client, so a DNS answer that changes between the check and the connection (rebinding)
 * cannot reach a private address. Refused: loopback, private, link-local (cloud metadata included), CGNAT, "this
 * network", multicast, broadcast and reserved IPv4 ranges, and the IPv6 ones (loopback, unspecified, unique-local,
 * link-local, site-local, multicast), also when an IPv4 address hides inside IPv6 (mapped, compatible, NAT64, 6to4,
 * Teredo). Host literals are read the way C's {@code inet_aton} (and so curl and browsers) reads them, so
 * {@code 2130706433}, {@code 0x7f.1} and {@code 017700000001} are all 127.0.0.1. Immutable and thread-safe.
 */
final class OutboundAddresses {
    /** Resolves a host name to its addresses: the network edge, replaced in tests. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;

        Resolver SYSTEM = InetAddress::getAllByName;
    }

    /** A URL or address {@code http_get} will not fetch; the message says why, for the model. */
    static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    private final List<String> allowHosts;
    private final Resolver resolver;

    OutboundAddresses(List<String> allowHosts, Resolver resolver) {
        this.allowHosts = List.copyOf(allowHosts);
        this.resolver = resolver;
    }

    /** The host as compared and resolved: lower case, without a trailing dot or IPv6 brackets. */
    static String normalize(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
        return h;
    }

    /** Whether {@code host} (normalized) is on the allow-list: listed exactly, or under a listed {@code *.suffix}. */
    boolean allowed(String host) {
        for (String pattern : allowHosts) {
            if (pattern.startsWith("*.") ? host.endsWith(pattern.substring(1)) : host.equals(pattern)) return true;
        }
        return false;
    }

    /** The addresses of {@code host} (normalized), every one of them public; refused if any is not or none exist. */
    List<InetAddress> publicAddresses(String host) throws RefusedException {
        InetAddress literal = literal(host);
        List<InetAddress> addresses;
        if (literal != null) {
            addresses = List.of(literal);
        } else {
            try {
                addresses = List.of(resolver.resolve(host));
            } catch (UnknownHostException e) {
                throw new RefusedException("the host " + host + " does not resolve");
            }
        }
        if (addresses.isEmpty()) throw new RefusedException("the host " + host + " does not resolve");
        for (InetAddress a : addresses) {
            String why = forbidden(a);
            if (why != null) throw new RefusedException("the host " + host + " resolves to a " + why + " address, which http_get never fetches");
        }
        return addresses;
    }

    /**
     * The address a host literal denotes ({@code inet_aton} forms: one to four dot-separated parts in decimal, octal
     * with a leading 0, or hex with 0x, the last part filling the remaining bytes; or an IPv6 literal), else null.
     */
    static InetAddress literal(String host) {
        if (host.contains(":")) {
            try {
                return InetAddress.getByName("[" + host + "]");
            } catch (UnknownHostException | IllegalArgumentException e) {
                return null;
            }
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length > 4) return null;
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Long v = number(parts[i]);
            if (v == null) return null;
            values[i] = v;
        }
        long address = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 0xff) return null;
            address |= values[i] << (8 * (3 - i));
        }
        long last = values[values.length - 1];
        if (last >= 1L << (8 * (4 - (values.length - 1)))) return null;
        address |= last;
        byte[] bytes = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are an IPv4 address", e);
        }
    }

    private static Long number(String part) {
        try {
            if (part.startsWith("0x") || part.startsWith("0X")) return part.length() > 2 && part.length() <= 10 ? Long.parseLong(part.substring(2), 16) : null;
            if (part.length() > 1 && part.startsWith("0")) return part.length() <= 12 ? Long.parseLong(part.substring(1), 8) : null;
            return !part.isEmpty() && part.length() <= 10 && part.chars().allMatch(Character::isDigit) ? Long.parseLong(part) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Why {@code address} may not be fetched ("loopback", "private"…), or null when it is a public address. */
    static String forbidden(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) return forbiddenV4(b);
        if (address instanceof Inet6Address) return forbiddenV6(b);
        return "unknown kind of";
    }

    private static String forbiddenV4(byte[] b) {
        int a0 = b[0] & 0xff, a1 = b[1] & 0xff, a2 = b[2] & 0xff;
        if (a0 == 0) return "\"this network\" (0.0.0.0/8)";
        if (a0 == 127) return "loopback";
        if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) return "private";
        if (a0 == 169 && a1 == 254) return "link-local (cloud metadata)";
        if (a0 == 100 && (a1 & 0xc0) == 64) return "carrier-grade NAT (100.64.0.0/10)";
        if (a0 == 192 && a1 == 0 && a2 == 0) return "IETF protocol (192.0.0.0/24)";
        if (a0 == 198 && (a1 & 0xfe) == 18) return "benchmarking (198.18.0.0/15)";
        if ((a0 == 192 && a1 == 0 && a2 == 2) || (a0 == 198 && a1 == 51 && a2 == 100) || (a0 == 203 && a1 == 0 && a2 == 113)) return "documentation (TEST-NET)";
        if (a0 >= 224 && a0 <= 239) return "multicast";
        if (a0 >= 240) return "reserved or broadcast";
        return null;
    }

    private static String forbiddenV6(byte[] b) {
        boolean firstTenZero = true;
        for (int i = 0; i < 10; i++) firstTenZero &= b[i] == 0;
        if (firstTenZero && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) return embedded(b, 12, false, "IPv4-mapped");
        if (firstTenZero && b[10] == 0 && b[11] == 0) {
            boolean upperZero = b[12] == 0 && b[13] == 0 && b[14] == 0;
            if (upperZero && (b[15] == 0 || b[15] == 1)) return b[15] == 0 ? "unspecified (::)" : "loopback";
            return embedded(b, 12, false, "IPv4-compatible");
        }
        boolean firstEightZero = true;
        for (int i = 0; i < 8; i++) firstEightZero &= b[i] == 0;
        if (firstEightZero && (b[8] & 0xff) == 0xff && (b[9] & 0xff) == 0xff && b[10] == 0 && b[11] == 0) return embedded(b, 12, false, "IPv4-translated (::ffff:0:0/96)");
        int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff), w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        if (w0 == 0x2001 && w1 == 0x0db8) return "documentation (2001:db8::/32)";
        if (w0 == 0x0100 && w1 == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0) return "discard-only (100::/64)";
        if (w0 == 0x64 && w1 == 0xff9b) {
            if (b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0 && b[10] == 0 && b[11] == 0) return embedded(b, 12, false, "NAT64");
            return "local-use NAT64 (64:ff9b:1::/48)";
        }
        if (w0 == 0x2002) return embedded(b, 2, false, "6to4");
        if (w0 == 0x2001 && w1 == 0) return embedded(b, 12, true, "Teredo");
        if ((b[0] & 0xfe) == 0xfc) return "unique-local (fc00::/7)";
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (fec0::/10)";
        if ((b[0] & 0xff) == 0xff) return "multicast";
        return null;
    }

    /** The verdict on the IPv4 address inside an IPv6 one (Teredo stores it inverted). */
    private static String embedded(byte[] b, int offset, boolean inverted, String kind) {
        byte[] v4 = new byte[4];
        for (int i = 0; i < 4; i++) v4[i] = (byte) (inverted ? ~b[offset + i] : b[offset + i]);
        String why = forbiddenV4(v4);
        return why == null ? null : kind + " " + why;
    }
}
