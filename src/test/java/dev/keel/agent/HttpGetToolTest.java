package dev.keel.agent;

import static dev.keel.agent.StandInReplies.redirect;
import static dev.keel.agent.StandInReplies.reply;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.sun.net.httpserver.HttpServer;
import dev.keel.config.AgentConfig;
import dev.keel.model.Deadline;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * http_get against a real local server standing in for the internet. The network edge is faked: names resolve
 * through a table, and the one "public" address (93.184.216.34, once example.com's) is routed to the local server.
 */
class HttpGetToolTest {
    private static final InetAddress PUBLIC = address("93.184.216.34");
    private static HttpServer server;
    private static int port;
    private static final AtomicInteger secretHits = new AtomicInteger();
    private static final Map<String, String> cookiesReceived = new ConcurrentHashMap<>();
    private static final CountDownLatch release = new CountDownLatch(1);
    private static HttpGetTool tool;
    private static HttpGetTool impatient;

    private static final Map<String, InetAddress[]> DNS = Map.of(
            "docs.example", new InetAddress[] {PUBLIC},
            "internal.corp.example", new InetAddress[] {address("10.0.0.1")},
            "metadata.corp.example", new InetAddress[] {address("169.254.169.254")},
            "mixed.corp.example", new InetAddress[] {PUBLIC, address("192.168.1.5")},
            "mapped.corp.example", new InetAddress[] {v6("::ffff:7f00:1")},
            "nat64.corp.example", new InetAddress[] {v6("64:ff9b::a00:1")},
            "ula.corp.example", new InetAddress[] {v6("fd00::1")});

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        port = server.getAddress().getPort();
        server.createContext("/page", ex -> reply(ex, 200, "text/html; charset=utf-8",
                "<html><head><title>Refunds</title><script>var secret=1</script></head><body><p>Refunds take 5 days.</p></body></html>"));
        server.createContext("/data", ex -> reply(ex, 200, "application/json", "{\"ok\":true}"));
        server.createContext("/image", ex -> reply(ex, 200, "image/png", "\u0089PNG"));
        server.createContext("/down", ex -> reply(ex, 503, "text/plain", "maintenance"));
        server.createContext("/missing", ex -> reply(ex, 404, "text/plain", "no"));
        server.createContext("/secret", ex -> {
            secretHits.incrementAndGet();
            reply(ex, 200, "text/plain", "the secret");
        });
        server.createContext("/to-loopback", ex -> redirect(ex, "http://127.0.0.1:" + port + "/secret"));
        server.createContext("/to-listed-loopback", ex -> redirect(ex, "http://2130706433:" + port + "/secret"));
        server.createContext("/to-internal", ex -> redirect(ex, "http://internal.corp.example:" + port + "/secret"));
        server.createContext("/to-page", ex -> redirect(ex, "/page"));
        server.createContext("/to-file", ex -> redirect(ex, "file:///etc/passwd"));
        server.createContext("/loop", ex -> redirect(ex, "/loop"));
        server.createContext("/set-cookie", ex -> {
            ex.getResponseHeaders().add("Set-Cookie", "session=abc123; Path=/");
            redirect(ex, "/echo-cookie");
        });
        server.createContext("/echo-cookie", ex -> {
            String cookie = ex.getRequestHeaders().getFirst("Cookie");
            cookiesReceived.put("echo", cookie == null ? "none" : cookie);
            reply(ex, 200, "text/plain", "ok");
        });
        server.createContext("/big", ex -> {
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, 0);
            byte[] line = "0123456789abcdef".repeat(64).getBytes(StandardCharsets.US_ASCII);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 5 * 1024; i++) out.write(line);
            } catch (IOException clientStoppedReading) {
                // the tool aborts after max_bytes: that is the behaviour under test
            }
        });
        server.createContext("/slow", ex -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reply(ex, 200, "text/plain", "late");
        });
        server.start();
        List<String> allow = List.of("docs.example", "*.corp.example", "2130706433", "::ffff:127.0.0.1", "127.1");
        tool = new HttpGetTool(new AgentConfig.HttpGet(allow, 64 * 1024, 5_000, 3), HttpGetToolTest::resolve, HttpGetToolTest::route);
        impatient = new HttpGetTool(new AgentConfig.HttpGet(allow, 64 * 1024, 300, 3), HttpGetToolTest::resolve, HttpGetToolTest::route);
    }

    @AfterAll
    static void stop() {
        release.countDown();
        tool.close();
        impatient.close();
        server.stop(0);
    }

    private static InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] found = DNS.get(host);
        if (found == null) throw new UnknownHostException(host);
        return found;
    }

    private static InetSocketAddress route(InetSocketAddress checked) {
        return checked.getAddress().equals(PUBLIC) ? new InetSocketAddress(InetAddress.getLoopbackAddress(), checked.getPort()) : checked;
    }

    private static ToolOutcome get(HttpGetTool t, String url) throws InterruptedException {
        return t.call(JsonNodeFactory.instance.objectNode().put("url", url), new ToolInvocation(null, "run-1", 1, "run-1:1", Deadline.in(Duration.ofSeconds(30)), null));
    }

    private static JsonNode success(ToolOutcome outcome) {
        assertThat(outcome).isInstanceOf(ToolOutcome.Success.class);
        return ((ToolOutcome.Success) outcome).value();
    }

    private static String refusal(ToolOutcome outcome) {
        assertThat(outcome).isInstanceOf(ToolOutcome.Failure.class);
        assertThat(((ToolOutcome.Failure) outcome).retryable()).isFalse();
        return ((ToolOutcome.Failure) outcome).message();
    }

    private String url(String host, String path) {
        return "http://" + host + ":" + port + path;
    }

    @Test
    void fetchesAnAllowedPublicHostAndReturnsHtmlAsText() throws Exception {
        JsonNode page = success(get(tool, url("docs.example", "/page")));
        assertThat(page.get("content").asText()).isEqualTo("Refunds\n\nRefunds take 5 days.");
        assertThat(page.get("status").asInt()).isEqualTo(200);
        assertThat(page.get("truncated").asBoolean()).isFalse();
        assertThat(success(get(tool, url("docs.example", "/data"))).get("content").asText()).isEqualTo("{\"ok\":true}");
    }

    @Test
    void aHostOffTheAllowListIsRefusedBeforeAnyConnection() throws Exception {
        assertThat(refusal(get(tool, url("evil.example", "/secret")))).contains("evil.example is not on agents.http_get.allow_hosts");
        assertThat(refusal(get(tool, url("docs.example.evil.test", "/")))).contains("not on agents.http_get.allow_hosts");
        assertThat(refusal(get(tool, "ftp://docs.example/x"))).contains("only http and https");
        assertThat(refusal(get(tool, "file:///etc/passwd"))).contains("only http and https");
    }

    @Test
    void aRedirectToLoopbackIsRefusedAndNeverReached() throws Exception {
        assertThat(refusal(get(tool, url("docs.example", "/to-loopback")))).contains("127.0.0.1 is not on agents.http_get.allow_hosts");
        assertThat(refusal(get(tool, url("docs.example", "/to-listed-loopback")))).contains("loopback");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void aRedirectToAnAllowListedNameWithAPrivateAddressIsRefused() throws Exception {
        assertThat(refusal(get(tool, url("docs.example", "/to-internal")))).contains("internal.corp.example resolves to a private address");
        assertThat(refusal(get(tool, url("docs.example", "/to-file")))).contains("only http and https");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void allowListedNamesResolvingToPrivateRangesAreRefused() throws Exception {
        assertThat(refusal(get(tool, url("internal.corp.example", "/secret")))).contains("private address");
        assertThat(refusal(get(tool, url("metadata.corp.example", "/latest/meta-data/")))).contains("link-local");
        assertThat(refusal(get(tool, url("mapped.corp.example", "/secret")))).contains("loopback");
        assertThat(refusal(get(tool, url("nat64.corp.example", "/secret")))).contains("NAT64 private");
        assertThat(refusal(get(tool, url("ula.corp.example", "/secret")))).contains("unique-local");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void aNameWithOnePrivateAddressAmongPublicOnesIsRefused() throws Exception {
        assertThat(refusal(get(tool, url("mixed.corp.example", "/secret")))).contains("mixed.corp.example resolves to a private address");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void ipLiteralsInEveryNotationAreCheckedAsAddresses() throws Exception {
        assertThat(refusal(get(tool, url("2130706433", "/secret")))).contains("loopback");
        assertThat(refusal(get(tool, url("[::ffff:127.0.0.1]", "/secret")))).contains("loopback");
        assertThat(refusal(get(tool, url("0x7f.1", "/secret")))).contains("loopback");
        assertThat(refusal(get(tool, url("127.1", "/secret")))).contains("loopback");
        assertThat(refusal(get(tool, url("017700000001", "/secret")))).contains("not on agents.http_get.allow_hosts");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void aNameIsResolvedOncePerConnectionAndTheConnectionGoesToTheCheckedAddress() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        List<InetSocketAddress> connectedTo = new java.util.concurrent.CopyOnWriteArrayList<>();
        OutboundAddresses.Resolver rebinding = host -> lookups.incrementAndGet() == 1 ? new InetAddress[] {PUBLIC} : new InetAddress[] {address("127.0.0.1")};
        try (HttpGetTool pinned = new HttpGetTool(new AgentConfig.HttpGet(List.of("docs.example"), 1024, 5_000, 0), rebinding, checked -> {
            connectedTo.add(checked);
            return route(checked);
        })) {
            success(get(pinned, url("docs.example", "/page")));
        }
        assertThat(lookups).as("one resolution, both checked and connected to: no window for DNS rebinding").hasValue(1);
        assertThat(connectedTo).containsExactly(new InetSocketAddress(PUBLIC, port));
    }

    @Test
    void concurrentCallsEachGetTheirOwnVerdict() throws Exception {
        List<java.util.concurrent.Future<ToolOutcome>> fetches = new java.util.ArrayList<>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 40; i++) {
                String url = i % 2 == 0 ? url("docs.example", "/page") : url("internal.corp.example", "/secret");
                fetches.add(threads.submit(() -> get(tool, url)));
            }
        }
        for (int i = 0; i < fetches.size(); i++) {
            assertThat(fetches.get(i).get()).isInstanceOf(i % 2 == 0 ? ToolOutcome.Success.class : ToolOutcome.Failure.class);
        }
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void urlsWithCredentialsAreRefused() throws Exception {
        assertThat(refusal(get(tool, "http://docs.example@127.0.0.1:" + port + "/secret"))).contains("credentials");
        assertThat(refusal(get(tool, "http://user:pw@docs.example:" + port + "/page"))).contains("credentials");
        assertThat(secretHits).hasValue(0);
    }

    @Test
    void redirectsWithinPolicyAreFollowedUpToTheLimit() throws Exception {
        assertThat(success(get(tool, url("docs.example", "/to-page"))).get("content").asText()).contains("Refunds take 5 days.");
        assertThat(refusal(get(tool, url("docs.example", "/loop")))).contains("more than 3 redirects");
    }

    @Test
    void cookiesSetByAServerAreNeverSentBack() throws Exception {
        success(get(tool, url("docs.example", "/set-cookie")));
        assertThat(cookiesReceived).containsEntry("echo", "none");
    }

    @Test
    void anOversizeBodyIsCutAtMaxBytesWithANote() throws Exception {
        JsonNode big = success(get(tool, url("docs.example", "/big")));
        assertThat(big.get("content").asText()).hasSize(64 * 1024);
        assertThat(big.get("truncated").asBoolean()).isTrue();
        assertThat(big.get("note").asText()).contains("cut at agents.http_get.max_bytes (65536 bytes)");
    }

    @Test
    void aServerThatDoesNotAnswerInTimeIsARetryableTimeout() throws Exception {
        ToolOutcome outcome = get(impatient, url("docs.example", "/slow"));
        assertThat(outcome).isInstanceOf(ToolOutcome.Failure.class);
        assertThat(((ToolOutcome.Failure) outcome).retryable()).isTrue();
        assertThat(((ToolOutcome.Failure) outcome).message()).matches("timed out after \\d+ ms fetching docs\\.example");
    }

    @Test
    void errorStatusesAndBinaryContentAreFailures() throws Exception {
        assertThat(get(tool, url("docs.example", "/down"))).isEqualTo(new ToolOutcome.Failure("HTTP 503 from docs.example", true));
        assertThat(refusal(get(tool, url("docs.example", "/missing")))).isEqualTo("HTTP 404 from docs.example");
        assertThat(refusal(get(tool, url("docs.example", "/image")))).contains("unsupported content type 'image/png'");
    }

    @Test
    void everyForbiddenRangeIsRecognisedAndPublicAddressesPass() {
        for (String a : List.of("0.1.2.3", "10.1.1.1", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",
                "192.168.0.1", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1", "198.51.100.7", "203.0.113.10")) {
            assertThat(OutboundAddresses.forbidden(address(a))).as(a).isNotNull();
        }
        for (String a : List.of("::1", "::", "fc00::1", "fe80::1", "ff02::1", "::ffff:a00:1", "::7f00:1", "64:ff9b::7f00:1", "2002:7f00:1::",
                "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:0:7f00:1", "::ffff:0:a00:1", "2001:db8::1", "100::1")) {
            assertThat(OutboundAddresses.forbidden(v6(a))).as(a).isNotNull();
        }
        for (String a : List.of("8.8.8.8", "172.32.0.1", "100.128.0.1", "93.184.216.34")) assertThat(OutboundAddresses.forbidden(address(a))).as(a).isNull();
        assertThat(OutboundAddresses.forbidden(v6("2606:4700::1111"))).isNull();
        assertThat(OutboundAddresses.forbidden(v6("64:ff9b::808:808"))).isNull();
    }

    @Test
    void hostLiteralsAreReadLikeInetAton() {
        assertThat(OutboundAddresses.literal("2130706433")).isEqualTo(address("127.0.0.1"));
        assertThat(OutboundAddresses.literal("0x7f.1")).isEqualTo(address("127.0.0.1"));
        assertThat(OutboundAddresses.literal("017700000001")).isEqualTo(address("127.0.0.1"));
        assertThat(OutboundAddresses.literal("0177.0.0.01")).isEqualTo(address("127.0.0.1"));
        assertThat(OutboundAddresses.literal("10.1")).isEqualTo(address("10.0.0.1"));
        assertThat(OutboundAddresses.literal("docs.example")).isNull();
        assertThat(OutboundAddresses.literal("1.2.3.4.5")).isNull();
        assertThat(OutboundAddresses.literal("256.1.1.1")).isNull();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** An IPv6 address kept as IPv6 (InetAddress.getByName turns ::ffff:a.b.c.d into IPv4, a resolver might not). */
    private static InetAddress v6(String literal) {
        try {
            return Inet6Address.getByAddress(null, InetAddress.getByName(literal).getAddress().length == 16
                    ? InetAddress.getByName(literal).getAddress() : mapped(InetAddress.getByName(literal).getAddress()), -1);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static byte[] mapped(byte[] v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }


}
