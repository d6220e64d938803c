package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.store.ContentHash;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The no-progress detector: a run is stuck when its last {@value #REPEATS} tool calls were the same (tool,
 * canonical arguments), or returned the same results. Fed in order with every tool result of a run (live or
 * replayed), so a resumed run judges exactly as the run did. Not thread-safe: one per run state.
 */
final class LoopDetector {
    /** Three identical calls in a row: two can be a deliberate retry, a third is not making progress. */
    static final int REPEATS = 3;
    private final List<String> calls = new ArrayList<>();
    private final List<String> results = new ArrayList<>();

    /** The hash of a call: its tool and arguments with object keys sorted, so key order does not hide a repeat. */
    static String callHash(String tool, JsonNode arguments) {
        return ContentHash.sha256(tool + "\u0000" + canonical(arguments));
    }

    static String resultHash(String tool, String content) {
        return ContentHash.sha256(tool + "\u0000" + content);
    }

    /** Whether making the call {@code hash} now would be the {@value #REPEATS}-th identical call in a row. */
    boolean wouldRepeat(String hash) {
        return lastSame(calls, hash);
    }

    /** Whether a result {@code hash} now would be the {@value #REPEATS}-th identical result in a row. */
    boolean wouldStall(String hash) {
        return lastSame(results, hash);
    }

    void record(String callHash, String resultHash) {
        calls.add(callHash);
        results.add(resultHash);
    }

    private static boolean lastSame(List<String> seen, String next) {
        if (seen.size() < REPEATS - 1) return false;
        for (int i = seen.size() - (REPEATS - 1); i < seen.size(); i++) if (!seen.get(i).equals(next)) return false;
        return true;
    }

    private static JsonNode canonical(JsonNode node) {
        if (node.isObject()) {
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            node.properties().forEach(e -> sorted.put(e.getKey(), canonical(e.getValue())));
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            sorted.forEach(out::set);
            return out;
        }
        if (node.isArray()) {
            var out = JsonNodeFactory.instance.arrayNode();
            node.forEach(n -> out.add(canonical(n)));
            return out;
        }
        return node;
    }
}
