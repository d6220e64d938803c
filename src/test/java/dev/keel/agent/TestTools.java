package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.gateway.FakeLlmServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;

/** Real tools for agent tests: each counts its executions (per idempotency key), as a system with side effects would see them. */
final class TestTools {
    private TestTools() {}

    static ObjectNode schema(String json) {
        try {
            return (ObjectNode) dev.keel.model.Jackson.api().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String CUSTOMER = """
            {"type":"object","properties":{"customer_id":{"type":"string"}},"required":["customer_id"],"additionalProperties":false}""";
    static final String EMAIL = """
            {"type":"object","properties":{"customer_id":{"type":"string"},"email":{"type":"string","pattern":"^[^@]+@[^@]+$"}},
             "required":["customer_id","email"],"additionalProperties":false}""";

    /** A tool that counts calls, then does {@code body}. */
    static class Counting implements Tool {
        final ToolSpec spec;
        final AtomicInteger calls = new AtomicInteger();
        final Map<String, AtomicInteger> byKey = new ConcurrentHashMap<>();
        final Function<JsonNode, ToolOutcome> body;

        Counting(String name, String schema, SideEffect effect, boolean idempotent, Duration timeout, Set<String> scopes, Function<JsonNode, ToolOutcome> body) {
            this.spec = new ToolSpec(name, "test tool " + name, schema(schema), null, effect, idempotent, timeout, scopes);
            this.body = body;
        }

        @Override
        public ToolSpec spec() {
            return spec;
        }

        @Override
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) throws InterruptedException {
            calls.incrementAndGet();
            byKey.computeIfAbsent(invocation.idempotencyKey(), k -> new AtomicInteger()).incrementAndGet();
            return body.apply(arguments);
        }

        @Override
        public String summarize(JsonNode arguments) {
            return spec.name() + " for customer " + arguments.path("customer_id").asText() + " to " + arguments.path("email").asText();
        }

        void reset() {
            calls.set(0);
            byKey.clear();
        }
    }

    static Counting read(String name, String schema, Function<JsonNode, ToolOutcome> body) {
        return new Counting(name, schema, SideEffect.READ, true, Duration.ofSeconds(5), Set.of(), body);
    }

    static ToolOutcome ok(String json) {
        try {
            return ToolOutcome.success(dev.keel.model.Jackson.api().readTree(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode text(String s) {
        return JsonNodeFactory.instance.textNode(s);
    }

    /** A model reply asking for {@code tool} {@code n} times in one message, call i with the arguments {@code arguments(i)}. */
    static FakeLlmServer.Behavior toolCalls(String tool, int n, IntFunction<String> arguments) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("id", "chatcmpl-many").put("object", "chat.completion").put("created", 1)
                .put("model", "fake");
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0).put("finish_reason", "tool_calls");
        ObjectNode message = choice.putObject("message").put("role", "assistant").putNull("content");
        ArrayNode calls = message.putArray("tool_calls");
        for (int i = 0; i < n; i++) {
            calls.addObject().put("id", "call_" + i).put("type", "function").putObject("function").put("name", tool).put("arguments", arguments.apply(i));
        }
        body.putObject("usage").put("prompt_tokens", 9).put("completion_tokens", 5).put("total_tokens", 14);
        return FakeLlmServer.raw(body.toString());
    }
}
