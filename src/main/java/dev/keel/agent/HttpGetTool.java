package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AgentConfig;
import dev.keel.model.Deadline;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;

/**
 * The built-in {@code http_get}: fetches one http(s) URL whose host is on {@code agents.http_get.allow_hosts} and
 * whose every address is public ({@link OutboundAddresses}); the connection goes to exactly the addresses checked.
 * URLs with credentials ({@code user@host}) are refused. Redirects are followed by hand, up to {@code max_redirects},
 * each target checked like the first URL. Sends no cookies and no credentials; reads at most {@code max_bytes}
 * (longer bodies are cut, and the result says so) within {@code timeout_ms} for the whole chain. Text, JSON, XML
 * and HTML only; HTML comes back as its text. Thread-safe; closing releases its HTTP client.
 */
final class HttpGetTool implements Tool, AutoCloseable {
    static final String NAME = "http_get";
    /** What the tool accepts; anything else is refused before a connection (images, archives, PDFs are not for the model). */
    private static final Set<String> TEXT_TYPES = Set.of("application/json", "application/xml", "application/xhtml+xml",
            "application/javascript", "application/x-ndjson");
    /** Longest URL accepted: longer ones are not links a person wrote. */
    private static final int MAX_URL_CHARS = 2048;
    private static final Map<String, String> HEADERS = Map.of("Accept", "text/html, application/json, application/xml, text/*;q=0.9");

    private final AgentConfig.HttpGet policy;
    private final OutboundAddresses addresses;
    private final OutboundHttp http;
    private final ToolSpec spec;

    /** A tool under {@code policy}, resolving names with the system resolver. */
    HttpGetTool(AgentConfig.HttpGet policy) {
        this(policy, OutboundAddresses.Resolver.SYSTEM, UnaryOperator.identity());
    }

    /**
     * A tool resolving names with {@code resolver} and connecting to {@code route} of each checked address: both are
     * the network edge, which tests replace (a public-looking address routed to a local server).
     */
    HttpGetTool(AgentConfig.HttpGet policy, OutboundAddresses.Resolver resolver, UnaryOperator<InetSocketAddress> route) {
        this.policy = policy;
        this.addresses = new OutboundAddresses(policy.allowHosts(), resolver);
        this.http = new OutboundHttp("http-get", pinned(addresses, route));
        ObjectNode parameters = JsonNodeFactory.instance.objectNode().put("type", "object").put("additionalProperties", false);
        parameters.putObject("properties").putObject("url").put("type", "string").put("maxLength", MAX_URL_CHARS)
                .put("description", "an http or https URL on an allowed host");
        parameters.putArray("required").add("url");
        this.spec = new ToolSpec(NAME, "Fetches a web page or API response (GET) from an allowed host and returns its text.",
                parameters, null, AgentConfig.SideEffect.READ, true, Duration.ofMillis(policy.timeoutMs()), Set.of());
    }

    /** Jetty asks this for the addresses of every new connection: the allow-list and the address check, at connect time. */
    private static SocketAddressResolver pinned(OutboundAddresses addresses, UnaryOperator<InetSocketAddress> route) {
        return (host, port, context, promise) -> {
            String h = OutboundAddresses.normalize(host);
            try {
                if (!addresses.allowed(h)) throw new OutboundAddresses.RefusedException("the host " + h + " is not on agents.http_get.allow_hosts");
                List<InetAddress> checked = addresses.publicAddresses(h);
                promise.succeeded(checked.stream().map(a -> route.apply(new InetSocketAddress(a, port))).toList());
            } catch (OutboundAddresses.RefusedException e) {
                promise.failed(e);
            }
        };
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) throws InterruptedException {
        Deadline deadline = OutboundHttp.deadline(invocation, policy.timeoutMs());
        long started = System.nanoTime();
        URI uri;
        try {
            uri = new URI(arguments.path("url").asText(""));
        } catch (URISyntaxException e) {
            return ToolOutcome.failure("not a valid URL: " + e.getReason());
        }
        for (int redirects = 0; ; redirects++) {
            String refused = refusal(uri);
            if (refused != null) return ToolOutcome.failure("refused: " + refused);
            OutboundHttp.Fetched fetched;
            try {
                fetched = http.exchange("GET", uri, HEADERS, null, deadline.remaining(), policy.maxBytes());
            } catch (TimeoutException e) {
                return new ToolOutcome.Failure("timed out after " + (System.nanoTime() - started) / 1_000_000 + " ms fetching " + uri.getHost(), true);
            } catch (IOException e) {
                OutboundAddresses.RefusedException why = OutboundHttp.causedBy(e, OutboundAddresses.RefusedException.class);
                if (why != null) return ToolOutcome.failure("refused: " + why.getMessage());
                return new ToolOutcome.Failure("could not fetch " + uri.getHost() + ": the connection failed", true);
            }
            int status = fetched.status();
            if (status >= 300 && status < 400 && fetched.location() != null) {
                if (redirects == policy.maxRedirects()) return ToolOutcome.failure("refused: more than " + policy.maxRedirects() + " redirects");
                try {
                    uri = uri.resolve(new URI(fetched.location()));
                } catch (URISyntaxException e) {
                    return ToolOutcome.failure("the server redirected to an invalid URL");
                }
                continue;
            }
            if (status < 200 || status >= 300) {
                return new ToolOutcome.Failure("HTTP " + status + " from " + uri.getHost(), status == 429 || status >= 500);
            }
            return read(uri, fetched);
        }
    }

    /** Why {@code uri} may not be fetched, before any connection; null when it may be tried. */
    private String refusal(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) return "only http and https URLs are fetched";
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            return "URLs with credentials (user@host) are not fetched";
        }
        if (uri.getHost() == null) {
            String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority().replaceFirst(":\\d*$", "");
            InetAddress literal = OutboundAddresses.literal(OutboundAddresses.normalize(authority));
            String why = literal == null ? null : OutboundAddresses.forbidden(literal);
            return why != null ? "the host " + authority + " is a " + why + " address, which http_get never fetches"
                    : "'" + authority + "' is not a host name http_get fetches";
        }
        String host = OutboundAddresses.normalize(uri.getHost());
        if (!addresses.allowed(host)) return "the host " + host + " is not on agents.http_get.allow_hosts";
        return null;
    }

    private ToolOutcome read(URI uri, OutboundHttp.Fetched fetched) {
        String type = fetched.mediaType();
        boolean html = type.equals("text/html") || type.equals("application/xhtml+xml");
        if (!type.startsWith("text/") && !TEXT_TYPES.contains(type) && !type.endsWith("+json") && !type.endsWith("+xml")) {
            return ToolOutcome.failure("unsupported content type '" + (type.isEmpty() ? "none" : type) + "': http_get returns text, JSON, XML and HTML only");
        }
        String content = html ? htmlText(fetched.text()) : fetched.text();
        ObjectNode result = JsonNodeFactory.instance.objectNode().put("url", uri.toString()).put("status", fetched.status())
                .put("content_type", type).put("content", content);
        if (fetched.truncated()) result.put("note", "the response was cut at agents.http_get.max_bytes (" + policy.maxBytes() + " bytes)");
        return ToolOutcome.success(result.put("truncated", fetched.truncated()));
    }

    private static String htmlText(String html) {
        Document doc = Jsoup.parse(html);
        doc.select("script, style, noscript, template, svg").remove();
        String body = doc.body() == null ? "" : doc.body().text();
        return doc.title().isBlank() ? body : doc.title() + "\n\n" + body;
    }

    @Override
    public void close() {
        http.close();
    }
}
