package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A protocol-faithful fake of an OpenAI-compatible provider over real HTTP and SSE, for tests.
 * Each request takes the next scripted {@link Behavior} (the last one repeats); every request is
 * recorded with its body, headers, arrival time and the request id the fake answered with (in
 * {@code x-request-id}, or Anthropic's {@code request-id} on {@code /v1/messages}).
 */
public final class FakeLlmServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the fake does with one request. */
    public interface Behavior {
        void respond(HttpExchange ex, JsonNode request) throws IOException;
    }

    public record Received(JsonNode body, Map<String, List<String>> headers, long nanos, String path, String requestId) {}

    private final HttpServer server;
    private final ConcurrentLinkedQueue<Behavior> script = new ConcurrentLinkedQueue<>();
    private volatile Behavior last = ok("Hello from the fake.");
    private final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
    public final List<Received> received = new CopyOnWriteArrayList<>();

    public FakeLlmServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/messages", this::handle);
        server.createContext("/v1/chat/completions", this::handle);
        server.createContext("/v1/embeddings", this::handle);
        server.createContext("/v1/rerank", this::handle);
        server.start();
    }

    private void handle(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        String path = ex.getRequestURI().getPath();
        String requestId = "req_" + server.getAddress().getPort() + "_" + requests.incrementAndGet();
        ex.getResponseHeaders().set(path.endsWith("/messages") ? "request-id" : "x-request-id", requestId);
        received.add(new Received(body, Map.copyOf(ex.getRequestHeaders()), System.nanoTime(), path, requestId));
        String refusal = path.endsWith("/chat/completions") ? reasoningModelRefusal(body) : null;
        if (refusal != null) {
            try {
                send(ex, 400, Map.of(), refusal);
            } finally {
                ex.close();
            }
            return;
        }
        Behavior b = next();
        try {
            b.respond(ex, body);
        } finally {
            ex.close();
        }
    }

    /**
     * OpenAI's 400 for a reasoning model (o1, o3, o4-mini, gpt-5 but its -chat variants) asked with {@code max_tokens}
     * or with a {@code temperature} or {@code top_p} other than 1, word for word; null for a request it accepts.
     */
    private static String reasoningModelRefusal(JsonNode body) {
        if (!body.path("model").asText().matches("(?:o1|o3|o4)(?:-.*)?|gpt-5(?!-chat).*")) return null;
        if (body.has("max_tokens")) {
            return "{\"error\":{\"message\":\"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.\","
                    + "\"type\":\"invalid_request_error\",\"param\":\"max_tokens\",\"code\":\"unsupported_parameter\"}}";
        }
        for (String setting : List.of("temperature", "top_p")) {
            if (body.has(setting) && body.get(setting).asDouble() != 1) {
                return "{\"error\":{\"message\":\"Unsupported value: '" + setting + "' does not support " + body.get(setting).asText()
                        + " with this model. Only the default (1) value is supported.\",\"type\":\"invalid_request_error\",\"param\":\"" + setting
                        + "\",\"code\":\"unsupported_value\"}}";
            }
        }
        return null;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Forgets the script and the recorded requests; answers "ok" until scripted again. */
    /** The next scripted behaviour, else the last one again; atomic, so concurrent requests never see the one before a script. */
    private synchronized Behavior next() {
        Behavior b = script.poll();
        if (b == null) return last;
        last = b;
        return b;
    }

    public synchronized void reset() {
        script.clear();
        received.clear();
        last = ok("Hello from the fake.");
    }

    public FakeLlmServer then(Behavior... behaviors) {
        script.addAll(List.of(behaviors));
        return this;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** OpenAI's embeddings response: one 3-dimensional vector per input, 5 prompt tokens per input. */
    public static Behavior embeddings() {
        return (ex, req) -> {
            JsonNode input = req.path("input");
            int n = input.isArray() ? input.size() : 1;
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) data.append(',');
                data.append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":[0.1,").append(i).append(",0.3]}");
            }
            send(ex, 200, Map.of(), "{\"object\":\"list\",\"model\":\"" + req.path("model").asText() + "\",\"data\":[" + data
                    + "],\"usage\":{\"prompt_tokens\":" + 5 * n + ",\"total_tokens\":" + 5 * n + "}}");
        };
    }

    /**
     * A Cohere-compatible rerank reply ({@code /v1/rerank}): each of the request's {@code documents}
     * scored by {@code score}, best first, cut to {@code top_n}, as Cohere, Jina, vLLM and TEI answer.
     */
    public static Behavior rerank(java.util.function.ToDoubleFunction<String> score) {
        return (ex, req) -> {
            List<double[]> scored = new java.util.ArrayList<>();
            for (int i = 0; i < req.path("documents").size(); i++) scored.add(new double[] {i, score.applyAsDouble(req.path("documents").get(i).asText())});
            scored.sort((a, b) -> Double.compare(b[1], a[1]));
            StringBuilder results = new StringBuilder();
            for (double[] s : scored.subList(0, Math.min(scored.size(), req.path("top_n").asInt(scored.size())))) {
                results.append(results.isEmpty() ? "" : ",").append("{\"index\":").append((int) s[0]).append(",\"relevance_score\":").append(s[1]).append('}');
            }
            send(ex, 200, Map.of(), "{\"id\":\"rerank-fake\",\"results\":[" + results + "],\"meta\":{\"billed_units\":{\"search_units\":1}}}");
        };
    }

    public static Behavior ok(String content) {
        return (ex, req) -> send(ex, 200, Map.of(), completion(req.path("model").asText(), content));
    }

    /** Answers with the content {@code writer} makes from the request (e.g. citing the context block that holds a phrase). */
    public static Behavior okFrom(java.util.function.Function<JsonNode, String> writer) {
        return (ex, req) -> send(ex, 200, Map.of(), completion(req.path("model").asText(), writer.apply(req)));
    }

    public static Behavior toolCall(String name, String argumentsJson) {
        return (ex, req) -> send(ex, 200, Map.of(), "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1,\"model\":\""
                + req.path("model").asText() + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"arguments\":"
                + JSON.writeValueAsString(argumentsJson) + "}}]},\"finish_reason\":\"tool_calls\"}],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"total_tokens\":14}}");
    }

    public static Behavior status(int code, String body, Map<String, String> headers) {
        return (ex, req) -> send(ex, code, headers, body);
    }

    public static Behavior raw(String body) {
        return (ex, req) -> send(ex, 200, Map.of(), body);
    }

    /** Answers only after {@code latch} opens (or {@code maxSeconds} pass): a slow first byte. */
    public static Behavior stall(CountDownLatch latch, int maxSeconds) {
        return (ex, req) -> {
            try {
                latch.await(maxSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            send(ex, 200, Map.of(), completion(req.path("model").asText(), "late"));
        };
    }

    /**
     * Answers once {@code release} opens (or {@code maxSeconds} pass) with a reply that uses the whole
     * output limit the request set ({@code max_completion_tokens} / {@code max_tokens}): a request that
     * costs exactly its worst case.
     */
    public static Behavior spendsItsLimit(CountDownLatch release, int maxSeconds) {
        return (ex, req) -> {
            try {
                release.await(maxSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            send(ex, 200, Map.of(), limitSpent(req, "long answer", "length"));
        };
    }

    /** Answers {@code content} at once with usage of the whole output limit the request set: each call costs exactly its worst case. */
    public static Behavior spendsItsLimit(String content) {
        return (ex, req) -> send(ex, 200, Map.of(), limitSpent(req, content, "stop"));
    }

    private static String limitSpent(JsonNode req, String content, String finishReason) throws IOException {
        long out = req.path("max_completion_tokens").asLong(req.path("max_tokens").asLong(5));
        return "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"" + req.path("model").asText()
                + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + JSON.writeValueAsString(content)
                + "},\"finish_reason\":\"" + finishReason + "\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":" + out
                + ",\"total_tokens\":" + (9 + out) + "}}";
    }

    /** Streams the words as chunks, then a usage chunk if asked, then [DONE]; or breaks off after {@code breakAfter} chunks. */
    public static Behavior stream(List<String> words, int breakAfter) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            String model = req.path("model").asText();
            for (int i = 0; i < words.size(); i++) {
                if (i == breakAfter) {
                    out.flush();
                    throw new IOException("fake upstream disconnects mid-stream");
                }
                String chunk = "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                        + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":" + JSON.writeValueAsString(words.get(i)) + "},\"finish_reason\":null}]}";
                out.write(("data: " + chunk + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            String end = "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                    + "\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";
            out.write(("data: " + end + "\n\n").getBytes(StandardCharsets.UTF_8));
            if (req.path("stream_options").path("include_usage").asBoolean()) {
                out.write(("data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                        + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":" + words.size() + ",\"total_tokens\":" + (7 + words.size()) + "}}\n\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        };
    }

    /** Streams the reply {@code writer} makes from the request, a word per chunk (see {@link #stream}). */
    public static Behavior streamFrom(java.util.function.Function<JsonNode, String> writer) {
        return (ex, req) -> stream(List.of(writer.apply(req).split("(?<= )")), -1).respond(ex, req);
    }

    /** Streams one tool call: a chunk with its id and name, then its arguments in the given pieces, then finish_reason tool_calls. */
    public static Behavior streamToolCall(String name, List<String> argumentPieces) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            String head = "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + req.path("model").asText()
                    + "\",\"choices\":[{\"index\":0,\"delta\":";
            StringBuilder sb = new StringBuilder();
            sb.append("data: ").append(head).append("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_s1\",")
                    .append("\"type\":\"function\",\"function\":{\"name\":\"").append(name).append("\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n");
            for (String piece : argumentPieces) {
                sb.append("data: ").append(head).append("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":")
                        .append(JSON.writeValueAsString(piece)).append("}}]},\"finish_reason\":null}]}\n\n");
            }
            sb.append("data: ").append(head).append("{},\"finish_reason\":\"tool_calls\"}]}\n\n");
            sb.append("data: [DONE]\n\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        };
    }

    /** Streams one chunk per element, each element the chunk's {@code choices} array as JSON, then [DONE]: choices and fields as scripted. */
    public static Behavior streamChoices(List<String> choicesJson) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            StringBuilder sb = new StringBuilder();
            for (String choices : choicesJson) {
                sb.append("data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"")
                        .append(req.path("model").asText()).append("\",\"choices\":").append(choices).append("}\n\n");
            }
            sb.append("data: [DONE]\n\n");
            ex.getResponseBody().write(sb.toString().getBytes(StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
        };
    }

    /** Streams a chunk every 20 ms for up to a minute; counts {@code aborted} down when the reader goes away. */
    public static Behavior endlessStream(CountDownLatch aborted) {
        return endlessStream("tick ", aborted);
    }

    /** {@link #endlessStream(CountDownLatch)} whose every delta is {@code content}. */
    public static Behavior endlessStream(String content, CountDownLatch aborted) {
        String frame = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":" + quoted(content) + "},\"finish_reason\":null}]}\n\n";
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            long until = System.nanoTime() + 60_000_000_000L;
            try {
                while (System.nanoTime() < until) {
                    out.write(frame.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    Thread.sleep(20);
                }
            } catch (IOException e) {
                aborted.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    private static String quoted(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** An Anthropic Messages response with text and, optionally, one tool_use block. */
    public static Behavior anthropic(String text, String toolName, String toolInputJson, String stopReason) {
        return (ex, req) -> {
            StringBuilder content = new StringBuilder("[");
            if (text != null) content.append("{\"type\":\"text\",\"text\":").append(JSON.writeValueAsString(text)).append("}");
            if (toolName != null) {
                if (text != null) content.append(",");
                content.append("{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"").append(toolName).append("\",\"input\":").append(toolInputJson).append("}");
            }
            content.append("]");
            send(ex, 200, Map.of(), "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"" + req.path("model").asText()
                    + "\",\"content\":" + content + ",\"stop_reason\":\"" + stopReason + "\",\"usage\":{\"input_tokens\":20,\"output_tokens\":6,"
                    + "\"cache_read_input_tokens\":10}}");
        };
    }

    /** An Anthropic event stream of text deltas. */
    public static Behavior anthropicStream(List<String> words) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            StringBuilder sb = new StringBuilder();
            sb.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\",\"role\":\"assistant\",")
                    .append("\"content\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n");
            sb.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
            sb.append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
            for (String w : words) {
                sb.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":")
                        .append(JSON.writeValueAsString(w)).append("}}\n\n");
            }
            sb.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
            sb.append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":")
                    .append(words.size()).append("}}\n\n");
            sb.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        };
    }

    /** An Anthropic stream whose extended thinking writes {@code thoughts} as thinking deltas, then says "Done.", reporting all as output. */
    public static Behavior anthropicThinkingStream(List<String> thoughts) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            StringBuilder sb = new StringBuilder();
            sb.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\",\"type\":\"message\",\"role\":\"assistant\",")
                    .append("\"content\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n");
            sb.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n");
            for (String t : thoughts) {
                sb.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":")
                        .append(JSON.writeValueAsString(t)).append("}}\n\n");
            }
            sb.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
            sb.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
            sb.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Done.\"}}\n\n");
            sb.append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":")
                    .append(thoughts.size() + 2).append("}}\n\n");
            sb.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            ex.getResponseBody().write(sb.toString().getBytes(StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
        };
    }

    public static String completion(String model, String content) {
        try {
            return "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"" + model
                    + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + JSON.writeValueAsString(content)
                    + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"total_tokens\":14}}";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void send(HttpExchange ex, int code, Map<String, String> headers, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
