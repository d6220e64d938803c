package dev.keel.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where metadata lives (API keys, the usage ledger, the embedding cache, traces): the embedded
 * SQLite database in the data directory when {@code url} is absent, else a shared PostgreSQL that
 * several replicas use together. {@code url} is then always a {@code jdbc:postgresql://} URL without
 * credentials (a {@code postgres://user:password@host:port/db} URL is accepted and its user and
 * password moved to {@code user} and {@code password}, which usually come from the environment:
 * {@code ${PGPASSWORD}}). The user info runs to the last '@' before the host, so a password may hold
 * '/', '?', '#' and '@' unencoded; it is percent-decoded as in any URL. A URL that cannot be parsed is
 * refused without being repeated. {@code timeoutMs} bounds connecting and waiting for a pooled connection,
 * and each statement's wait for the server (at least 30 s); {@code traceRetentionMinutes} how long shared traces stay answerable. {@link #toString()}
 * never shows the password.
 */
public record StoreConfig(String url, String user, String password, int poolSize, int timeoutMs, int traceRetentionMinutes) {
    /** As long as the in-memory trace view keeps a trace, so a trace is answerable as long on every replica. */
    private static final int DEFAULT_TRACE_RETENTION_MINUTES = 60;
    public static final StoreConfig DEFAULTS = new StoreConfig(null, null, null, 10, 10_000, DEFAULT_TRACE_RETENTION_MINUTES);

    private static final Pattern SCHEME = Pattern.compile("(?:jdbc:)?postgres(?:ql)?://");
    /**
     * Host(s) and port(s), database, parameters: what follows the user info. Host characters only, so
     * a password's '/', '?', '#' or '@' is never taken for the start of the database or parameters.
     */
    private static final Pattern HOST_PART = Pattern.compile("([A-Za-z0-9.\\-_\\[\\]:,%]+)(/[^?#@]*)?(?:\\?([^#]*))?");
    private static final String EXPECTED = "expected postgres://[user[:password]@]host[:port]/database or jdbc:postgresql://host[:port]/database"
            + " (percent-encode '%' in a password as %25, or set store.password)";

    private static final String AMBIGUOUS = "an '@' in it can be read two ways, so the host is unclear; percent-encode '@' in the password"
            + " and parameters as %40, or set store.password";

    /** A URL split into its parts: user info (raw, null when absent), hosts, database path, parameters. */
    private record Parts(String userInfo, String hosts, String database, String query) {
        /**
         * The user info runs to the last '@' whose remainder is a host part: a password may hold '/', '?',
         * '#' and '@' unencoded. Null when the URL is not a PostgreSQL URL.
         */
        static Parts of(String url) {
            Matcher scheme = SCHEME.matcher(url);
            if (!scheme.lookingAt()) return null;
            String rest = url.substring(scheme.end());
            Parts found = null;
            for (int at = rest.lastIndexOf('@'); at >= 0; at = rest.lastIndexOf('@', at - 1)) {
                Matcher host = HOST_PART.matcher(rest.substring(at + 1));
                if (!host.matches() || host.group(2) == null) continue;
                // Two readings (an '@' in a parameter value, say) would let the URL's tail pick the host the password goes to.
                if (found != null) throw new ConfigException("store.url", AMBIGUOUS);
                found = new Parts(rest.substring(0, at), host.group(1), host.group(2), host.group(3));
            }
            Matcher host = HOST_PART.matcher(rest);
            boolean plain = host.matches();
            if (found != null && plain && host.group(2) != null) {
                throw new ConfigException("store.url", AMBIGUOUS);
            }
            if (found != null) return found;
            return plain ? new Parts(null, host.group(1), host.group(2), host.group(3)) : null;
        }
    }

    /** True when the store is shared (PostgreSQL), false for the embedded SQLite file. */
    public boolean shared() {
        return url != null;
    }

    /** Host(s), port and database of a shared store, for messages and readiness: never the user or password. */
    public String address() {
        if (url == null) return "embedded";
        Parts p = Parts.of(url);
        if (p == null) throw new IllegalStateException("store url not normalised");
        return p.hosts() + (p.database() == null ? "" : p.database());
    }

    /**
     * A shared store at {@code url} ({@code postgres://…}, {@code postgresql://…} or
     * {@code jdbc:postgresql://…}); credentials in the URL (user info, or {@code user}/{@code password}
     * parameters) are used where {@code user}/{@code password} are null and removed from the URL.
     */
    public static StoreConfig postgres(String url, String user, String password, int poolSize, int timeoutMs, int traceRetentionMinutes) {
        Parts m = Parts.of(url.strip());
        if (m == null) throw new ConfigException("store.url", EXPECTED);
        String urlUser = null, urlPassword = null;
        if (m.userInfo() != null) {
            String[] info = m.userInfo().split(":", 2);
            urlUser = decode(info[0]);
            if (info.length == 2) urlPassword = decode(info[1]);
        }
        List<String> params = new ArrayList<>();
        if (m.query() != null) {
            for (String p : m.query().split("&")) {
                String name = p.split("=", 2)[0];
                String value = p.contains("=") ? decode(p.substring(p.indexOf('=') + 1)) : "";
                if (name.equals("user")) urlUser = value;
                else if (name.equals("password")) urlPassword = value;
                else if (!p.isEmpty()) params.add(p);
            }
        }
        if (m.database() == null || m.database().length() < 2) throw new ConfigException("store.url", "names no database: expected …/database after the host");
        String jdbc = "jdbc:postgresql://" + m.hosts() + m.database() + (params.isEmpty() ? "" : "?" + String.join("&", params));
        return new StoreConfig(jdbc, user != null ? user : urlUser, password != null ? password : urlPassword, poolSize, timeoutMs, traceRetentionMinutes);
    }

    @Override
    public String toString() {
        return "StoreConfig[url=" + (url == null || !url.contains("?") ? url : url.substring(0, url.indexOf('?')) + "?…") + ", user=" + user + ", password=" + (password == null ? null : "…") + ", poolSize=" + poolSize
                + ", timeoutMs=" + timeoutMs + ", traceRetentionMinutes=" + traceRetentionMinutes + "]";
    }

    /** Percent-decodes as URLs do ('+' stays '+'); a stray '%' is refused without repeating the text, which may be a password. */
    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("store.url", "a '%' in the user info or parameters is not followed by two hex digits; " + EXPECTED);
        }
    }

    static StoreConfig read(ConfigNode n) {
        int poolSize = n.integer("pool_size", DEFAULTS.poolSize, 1, 1_000);
        int timeoutMs = n.integer("timeout_ms", DEFAULTS.timeoutMs, 100, 600_000);
        int retention = n.integer("trace_retention_minutes", DEFAULTS.traceRetentionMinutes, 1, 60 * 24 * 366);
        String url = n.string("url", null);
        String user = n.string("user", null), password = n.string("password", null);
        if (url == null || url.isBlank()) return new StoreConfig(null, user, password, poolSize, timeoutMs, retention);
        return postgres(url, user, password, poolSize, timeoutMs, retention);
    }
}
