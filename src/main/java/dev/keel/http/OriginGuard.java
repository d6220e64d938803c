package dev.keel.http;

import dev.keel.config.ServerConfig;
import dev.keel.model.ApiException;
import io.javalin.http.Header;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps web pages other than Keel's own console, and those of {@code server.cors_origins}, from using the
 * server through a visitor's browser. That matters most in open mode (no keys yet), where a request needs
 * no secret at all. Every request, before authentication:
 * <ol>
 * <li>its {@code Host} must name this server: localhost, an IP address, {@code server.host} or a name in
 *     {@code server.allowed_hosts}, else 421. A DNS-rebinding page reaches the server under the attacker's
 *     name; an IP address cannot be re-pointed. Checked when the server listens on loopback only (where open
 *     mode lives) or when {@code allowed_hosts} is set;</li>
 * <li>a browser's {@code Origin} must be the server's own (same host and port as {@code Host}) or listed in
 *     {@code cors_origins}, else 403: a page elsewhere cannot post documents or spend on chat with the
 *     text/plain and multipart bodies a browser sends cross-site without asking;</li>
 * <li>a request the browser marks as made for another site ({@code Sec-Fetch-Site: cross-site} or
 *     {@code same-site}) without an Origin, an image or script another page embeds, is refused (403) unless
 *     it is a navigation.</li>
 * </ol>
 * Listed origins get CORS headers and their preflights an answer. Thread-safe; its decisions never change.
 */
final class OriginGuard {
    /** Response headers a cross-origin page may read. */
    private static final String EXPOSED_HEADERS = "x-keel-trace-id, x-keel-overhead-ms, x-keel-cache, x-keel-route, x-keel-cost-usd, x-keel-provider, "
            + "x-request-id, retry-after";
    private static final String ALLOWED_METHODS = "GET, POST, DELETE";
    private static final String PREFLIGHT_MAX_AGE_SECONDS = "600";
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-f.]*:[0-9a-f:.]*]");
    private static final Pattern PORT = Pattern.compile("(:[0-9]{1,5})?");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9a-z-]{1,64}");

    private final boolean checksHost;
    private final Set<String> hostNames = new HashSet<>();
    private final Set<String> corsOrigins;
    /**
     * The Host header accepted last: a client sends the same one on every request, and the answer depends on the
     * header alone, so the patterns run once per client rather than once per request (1% of a proxied request's CPU).
     */
    private volatile String lastAcceptedHost;

    OriginGuard(ServerConfig server) {
        this.checksHost = server.loopbackOnly() || !server.allowedHosts().isEmpty();
        hostNames.add("localhost");
        hostNames.add(server.host().toLowerCase(Locale.ROOT));
        hostNames.addAll(server.allowedHosts());
        this.corsOrigins = Set.copyOf(server.corsOrigins());
    }

    /**
     * Checks a request, adding CORS headers for a listed origin. Returns true when it was a CORS preflight,
     * now answered (204), that needs nothing more.
     *
     * @throws ApiException 421 for a Host that does not name this server, 403 for a foreign web page
     */
    boolean admit(Exchange exchange) {
        String host = exchange.header(Header.HOST);
        if (!acceptsHost(host)) {
            throw new ApiException(421, "invalid_request_error", "this server does not answer to that Host name (a guard against DNS rebinding):"
                    + " use localhost or an IP address, or add the name to server.allowed_hosts", null, "host_not_allowed");
        }
        if (!corsOrigins.isEmpty()) exchange.header(Header.VARY, Header.ORIGIN);
        String origin = exchange.header(Header.ORIGIN);
        if (origin == null) {
            if (forAnotherSite(exchange)) {
                throw new ApiException(403, "permission_error", "a request another web site's page made (Sec-Fetch-Site) is refused",
                        null, "cross_site_request");
            }
            return false;
        }
        String normalised = origin.toLowerCase(Locale.ROOT);
        boolean listed = corsOrigins.contains(normalised);
        if (!listed && !sameOrigin(normalised, host)) {
            throw new ApiException(403, "permission_error", "requests from other web origins are refused; add the page's origin to"
                    + " server.cors_origins to let it call this server", null, "origin_not_allowed");
        }
        if (listed) {
            exchange.header(Header.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            exchange.header(Header.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
        }
        if (!exchange.method().equals("OPTIONS") || exchange.header(Header.ACCESS_CONTROL_REQUEST_METHOD) == null) return false;
        exchange.header(Header.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        exchange.header(Header.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
        exchange.header(Header.ACCESS_CONTROL_ALLOW_HEADERS, requestedHeaders(exchange.header(Header.ACCESS_CONTROL_REQUEST_HEADERS)));
        exchange.header(Header.ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS);
        exchange.status(204);
        return true;
    }

    /**
     * Whether a request with this Host header ({@code name[:port]}, IPv6 in brackets; null when absent, as
     * from HTTP/1.0 clients, never from a browser) may be answered.
     */
    boolean acceptsHost(String hostHeader) {
        if (!checksHost || hostHeader == null || hostHeader.equals(lastAcceptedHost)) return true;
        if (!namesThisServer(hostHeader)) return false;
        lastAcceptedHost = hostHeader;
        return true;
    }

    private boolean namesThisServer(String hostHeader) {
        String h = hostHeader.strip().toLowerCase(Locale.ROOT);
        int end = h.startsWith("[") ? h.indexOf(']') + 1 : h.indexOf(':') < 0 ? h.length() : h.indexOf(':');
        if (end <= 0 || !PORT.matcher(h.substring(end)).matches()) return false;
        String name = h.substring(0, end);
        if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
        return IPV4.matcher(name).matches() || IPV6.matcher(name).matches() || hostNames.contains(name);
    }

    /** The page's origin is this server as the client addressed it (scheme aside: a TLS proxy may sit in front). */
    private static boolean sameOrigin(String origin, String host) {
        int schemeEnd = origin.indexOf("://");
        if (host == null || schemeEnd < 0) return false;
        String scheme = origin.substring(0, schemeEnd);
        return (scheme.equals("http") || scheme.equals("https")) && origin.substring(schemeEnd + 3).equals(host.strip().toLowerCase(Locale.ROOT));
    }

    private static boolean forAnotherSite(Exchange exchange) {
        String site = exchange.header("Sec-Fetch-Site");
        return ("cross-site".equalsIgnoreCase(site) || "same-site".equalsIgnoreCase(site)) && !"navigate".equalsIgnoreCase(exchange.header("Sec-Fetch-Mode"));
    }

    /** The header names a preflight asks for that are well-formed; a listed origin is trusted with any header. */
    private static String requestedHeaders(String requested) {
        if (requested == null) return "authorization, content-type";
        return String.join(", ", List.of(requested.toLowerCase(Locale.ROOT).split(",")).stream().map(String::strip)
                .filter(h -> HEADER_NAME.matcher(h).matches()).toList());
    }
}
