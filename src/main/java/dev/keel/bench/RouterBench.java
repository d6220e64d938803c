package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.keel.config.KeelConfig;
import dev.keel.config.RouterConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.ingest.Tokens;
import dev.keel.model.ApiException;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The router's cost against quality: a labelled {@link RouterMix} (70% simple, 25% medium, 5%
 * complex) replayed through the gateway three ways — everything on the large tier, {@code auto}
 * with escalation, and {@code auto} routing only — against fake tier models priced $0.25, $1.50
 * and $15 per million tokens (input and output alike). A fake tier answers a request of its level
 * or below with the reference reply, and fails harder ones the way small models do, visibly: a
 * refusal, a hedge, a reply too short for the question, invalid JSON, or tool arguments that break
 * the schema. A reply passes when it is the reference. Cost is what the gateway's ledger holds (every
 * upstream call of a route counted). The fake models run in this process on loopback.
 */
public final class RouterBench {
    /** Dollars per million tokens of the small, medium and large tiers. */
    static final double[] PRICES = {0.25, 1.50, 15.0};
    private static final String[] TIERS = {"small", "medium", "large"};
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One way of serving the mix: what it cost, how many replies passed, and where requests ended up. */
    public record Run(String name, double costUsd, double passRate, long upstreamCalls, Map<String, Long> finalTiers, long escalated,
                      Map<String, Double> costByModel) {}

    /** The three runs, and how the classifier's first pick compares with the labels. */
    public record Result(int requests, Map<Integer, Long> levels, Run allLarge, Run routed, Run routeOnly, long underRouted, long overRouted) {
        public double costRatio() {
            return routed.costUsd() / allLarge.costUsd();
        }
    }

    private RouterBench() {}

    public static Result run(int requests, long seed, Path work, PrintStream log) throws Exception {
        List<RouterMix.Item> mix = RouterMix.generate(requests, seed);
        Map<String, RouterMix.Item> byQuestion = new java.util.HashMap<>();
        for (RouterMix.Item item : mix) byQuestion.put(item.question(), item);
        Map<Integer, Long> levels = new java.util.TreeMap<>();
        for (RouterMix.Item item : mix) levels.merge(item.level(), 1L, Long::sum);
        AtomicLong calls = new AtomicLong();
        HttpServer fake = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        fake.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        fake.createContext("/v1/chat/completions", ex -> answer(ex, byQuestion, calls));
        fake.start();
        String yaml = """
                providers:
                  fake: {type: openai, base_url: "http://127.0.0.1:%d/v1", max_retries: 0}
                models:
                  tier-small: {tier: small, targets: [{provider: fake, model: small, input_per_mtok: %s, output_per_mtok: %s}]}
                  tier-medium: {tier: medium, targets: [{provider: fake, model: medium, input_per_mtok: %s, output_per_mtok: %s}]}
                  tier-large: {tier: large, targets: [{provider: fake, model: large, input_per_mtok: %s, output_per_mtok: %s}]}
                """.formatted(fake.getAddress().getPort(), PRICES[0], PRICES[0], PRICES[1], PRICES[1], PRICES[2], PRICES[2]);
        KeelConfig config = KeelConfig.parse(yaml, k -> null);
        Traces traces = new Traces();
        try (Database db = Database.open(work); Ledger ledger = new Ledger(db);
             ChatGateway escalating = ChatGateway.create(config.gateway(), RouterConfig.DEFAULTS, k -> null, new SimpleMeterRegistry(), ledger, null,
                     GatewayCache.disabled(new SimpleMeterRegistry()), null);
             ChatGateway routing = ChatGateway.create(config.gateway(), new RouterConfig(false, false, RouterConfig.DEFAULTS.sessionTtl(),
                     RouterConfig.DEFAULTS.maxSessionsPerTenant()), k -> null, new SimpleMeterRegistry(), ledger, null,
                     GatewayCache.disabled(new SimpleMeterRegistry()), null)) {
            log.printf("router: %d requests (%s by level)%n", mix.size(), levels);
            Run large = replay("all large", mix, escalating, "tier-large", traces, calls, ledger, null);
            long[] misroutes = new long[2];
            Run routed = replay("auto, escalating", mix, escalating, "auto", traces, calls, ledger, misroutes);
            Run routeOnly = replay("auto, route only", mix, routing, "auto", traces, calls, ledger, null);
            return new Result(mix.size(), levels, large, routed, routeOnly, misroutes[0], misroutes[1]);
        } finally {
            fake.stop(0);
        }
    }

    /**
     * Serves every item through {@code gateway} as {@code model}, as tenant {@code name}, and takes the
     * cost from the ledger; counts first picks below / above the label into {@code misroutes}. A
     * request refused with an error (a reply still breaking its schema) fails.
     */
    private static Run replay(String name, List<RouterMix.Item> mix, ChatGateway gateway, String model, Traces traces, AtomicLong calls,
                              Ledger ledger, long[] misroutes) {
        long passed = 0, escalated = 0, callsBefore = calls.get();
        Map<String, Long> finalTiers = new LinkedHashMap<>();
        for (RouterMix.Item item : mix) {
            ObjectNode request = item.request().deepCopy().put("model", model);
            Trace trace = traces.start("bench", name);
            try {
                ChatGateway.Result r = gateway.complete(request, new ChatGateway.Caller(name, null), trace);
                if (passes(item, r.completion().body())) passed++;
                finalTiers.merge(r.completion().body().path("model").asText().replace("tier-", ""), 1L, Long::sum);
            } catch (ApiException e) {
                finalTiers.merge("error " + e.status(), 1L, Long::sum);
            }
            String route = String.valueOf(trace.attribute(ChatGateway.ROUTE_ATTRIBUTE));
            if (route.contains("->")) escalated++;
            if (misroutes != null) {
                int first = List.of(TIERS).indexOf(route.split("[-;]")[0]) + 1;
                if (first < item.level()) misroutes[0]++;
                if (first > item.level()) misroutes[1]++;
            }
            trace.finish();
        }
        ledger.flush();
        Map<String, Double> byModel = new java.util.TreeMap<>();
        for (Ledger.Row row : ledger.usage(name, Ledger.GroupBy.MODEL, 0, Long.MAX_VALUE)) byModel.put(row.group(), row.costUsd());
        double cost = byModel.values().stream().mapToDouble(Double::doubleValue).sum();
        return new Run(name, cost, (double) passed / mix.size(), calls.get() - callsBefore, finalTiers, escalated, byModel);
    }

    private static boolean passes(RouterMix.Item item, ObjectNode body) {
        JsonNode message = body.path("choices").path(0).path("message");
        return switch (item.kind()) {
            case TEXT, JSON -> item.reference().equals(message.path("content").asText());
            case TOOL -> item.reference().equals(message.path("tool_calls").path(0).path("function").path("arguments").asText());
        };
    }

    /** The fake tier models: the upstream model id names the tier; a request above its level fails visibly. */
    private static void answer(HttpExchange ex, Map<String, RouterMix.Item> byQuestion, AtomicLong calls) throws IOException {
        try (ex) {
            calls.incrementAndGet();
            JsonNode req = JSON.readTree(ex.getRequestBody());
            int capability = List.of(TIERS).indexOf(req.path("model").asText()) + 1;
            String question = req.path("messages").path(0).path("content").asText();
            RouterMix.Item item = byQuestion.get(question);
            ObjectNode message = JSON.createObjectNode().put("role", "assistant");
            boolean capable = item != null && item.level() <= capability;
            String text = "";
            if (item != null && item.kind() == RouterMix.Kind.TOOL) {
                message.putNull("content");
                message.putArray("tool_calls").addObject().put("id", "call_" + item.id()).put("type", "function").putObject("function")
                        .put("name", "weather").put("arguments", capable ? item.reference() : "{\"city\":\"somewhere\"}");
            } else {
                text = capable ? item.reference() : failure(item);
                message.put("content", text);
            }
            ObjectNode body = JSON.createObjectNode().put("id", "chatcmpl-bench").put("object", "chat.completion").put("created", 1)
                    .put("model", req.path("model").asText());
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            choice.set("message", message);
            choice.put("finish_reason", message.has("tool_calls") ? "tool_calls" : "stop");
            long prompt = Tokens.count(question) + 8, completion = Math.max(1, Tokens.count(text));
            body.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
            byte[] bytes = JSON.writeValueAsBytes(body);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** How a model below the request's level fails, in turn: refusal, hedge, or too short where the question needs detail; invalid JSON for a schema. */
    private static String failure(RouterMix.Item item) {
        if (item == null) return "I'm sorry, but I can't help with that.";
        if (item.kind() == RouterMix.Kind.JSON) return "Sure! The value is answer-" + item.id() + ".";
        return switch (item.id() % 3) {
            case 0 -> "I'm sorry, but I can't answer that reliably.";
            case 1 -> "I'm not sure about this one.";
            default -> item.needsDetail() ? "Yes." : "I cannot help with this request.";
        };
    }

    /** The tiers' prices, for the report. */
    public static String prices() {
        return String.format(java.util.Locale.ROOT, "$%.2f / $%.2f / $%.2f per 1M tokens (small / medium / large)", PRICES[0], PRICES[1], PRICES[2]);
    }
}
