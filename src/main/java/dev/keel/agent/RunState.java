package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run's state, derived only by applying its events in order: the same events always give the same state, so the
 * state a resumed run rebuilds from its log is the state the run had. Holds the conversation the next model call
 * sends, the tool calls of the latest model reply and which of them have a result, decisions on confirmations, and
 * what the limits, the escalation policy and the {@link LoopDetector} count. Not thread-safe.
 */
final class RunState {
    /** A tool call the model asked for: where it sits (step, index), its id in the conversation, tool and raw arguments. */
    record Call(int step, int index, String id, String tool, String arguments) {
        String key() {
            return step + ":" + index;
        }
    }

    /** The conversation's message holding the task: the system prompt comes first. */
    static final int TASK_MESSAGE = 1;
    /** Set on a stopping event whose model call the gateway billed although it returned no reply: it counts as a step. */
    static final String BILLED = "billed";

    String task, agent, model, promptHash;
    List<String> tools = List.of();
    RunStatus status = RunStatus.RUNNING;
    String reason, output;
    int steps, failures;
    long tokens;
    double costUsd;
    boolean hinted;
    RunView.Pending pending;
    int nextSeq;
    final ArrayNode messages = JsonNodeFactory.instance.arrayNode();
    final List<Call> calls = new ArrayList<>();
    final Set<String> resulted = new HashSet<>();
    final Set<String> started = new HashSet<>();
    final Map<String, Boolean> decisions = new HashMap<>();
    final Set<String> succeeded = new HashSet<>();
    final Set<String> invalidOnce = new HashSet<>();
    final LoopDetector detector = new LoopDetector();
    /** Time the run spent running (not waiting for a person, not down between a crash and its resume). */
    long activeMillis;
    /** When the latest event was appended (epoch ms). */
    long lastAt;

    static RunState replay(List<RunEvent> events) {
        RunState s = new RunState();
        events.forEach(s::apply);
        return s;
    }

    void apply(RunEvent e) {
        if (e.seq() != nextSeq) throw new IllegalStateException("event " + e.seq() + " out of order (expected " + nextSeq + ")");
        nextSeq++;
        if (lastAt > 0 && e.type() != RunEvent.Type.DECISION && e.type() != RunEvent.Type.RESUMED) activeMillis += Math.max(0, e.atMillis() - lastAt);
        lastAt = e.atMillis();
        tokens += e.tokens();
        costUsd += e.costUsd();
        ObjectNode p = e.payload();
        if (p.path(BILLED).asBoolean()) steps++;
        switch (e.type()) {
            case PLAN -> {
                task = p.path("task").asText();
                agent = p.path("agent").asText();
                model = p.path("model").asText();
                promptHash = p.path("prompt_hash").asText();
                List<String> offered = new ArrayList<>();
                p.path("tools").forEach(t -> offered.add(t.asText()));
                tools = List.copyOf(offered);
                messages.addObject().put("role", "system").put("content", p.path("system").asText());
                messages.addObject().put("role", "user").put("content", task);
            }
            case MODEL_CALL -> {
                steps++;
                JsonNode message = p.path("message");
                messages.add(message.deepCopy());
                calls.clear();
                int index = 0;
                for (JsonNode tc : message.path("tool_calls")) {
                    calls.add(new Call(p.path("step").asInt(), index++, tc.path("id").asText(), tc.path("function").path("name").asText(),
                            tc.path("function").path("arguments").asText()));
                }
            }
            case TOOL_CALL -> started.add(key(p));
            case TOOL_RESULT -> {
                resulted.add(key(p));
                String tool = p.path("tool").asText();
                messages.addObject().put("role", "tool").put("tool_call_id", p.path("call_id").asText()).put("content", p.path("content").asText());
                if (p.path("ok").asBoolean()) succeeded.add(tool);
                if (p.path("failed").asBoolean()) failures++;
                if (p.path("invalid").asBoolean()) invalidOnce.add(tool);
                hinted |= p.path("hint").asBoolean();
                detector.record(p.path("call_hash").asText(), p.path("result_hash").asText());
            }
            case CONFIRMATION -> {
                status = RunStatus.AWAITING_CONFIRMATION;
                pending = new RunView.Pending(p.path("tool").asText(), p.path("summary").asText());
            }
            case DECISION -> {
                decisions.put(key(p), p.path("approved").asBoolean());
                status = RunStatus.RUNNING;
                pending = null;
            }
            case RESUMED -> status = RunStatus.RUNNING;
            case LIMIT -> stop(RunStatus.LIMIT_REACHED, p.path("reason").asText());
            case LOOP -> stop(RunStatus.LOOP_DETECTED, p.path("reason").asText());
            case ESCALATION -> stop(RunStatus.NEEDS_HUMAN, p.path("reason").asText());
            case ERROR -> stop(RunStatus.FAILED, p.path("reason").asText());
            case FINAL -> {
                status = RunStatus.COMPLETED;
                output = p.path("output").asText();
            }
        }
    }

    /** The first call of the latest model reply that has no result yet; null when the next step is a model call. */
    Call nextCall() {
        for (Call c : calls) if (!resulted.contains(c.key())) return c;
        return null;
    }

    /** The status this state has after {@code type} is applied to it: what the store records with the event. */
    static RunStatus statusAfter(RunEvent.Type type, RunStatus before) {
        return switch (type) {
            case CONFIRMATION -> RunStatus.AWAITING_CONFIRMATION;
            case DECISION, RESUMED -> RunStatus.RUNNING;
            case LIMIT -> RunStatus.LIMIT_REACHED;
            case LOOP -> RunStatus.LOOP_DETECTED;
            case ESCALATION -> RunStatus.NEEDS_HUMAN;
            case ERROR -> RunStatus.FAILED;
            case FINAL -> RunStatus.COMPLETED;
            default -> before;
        };
    }

    private void stop(RunStatus to, String why) {
        status = to;
        reason = why;
        pending = null;
    }

    private static String key(ObjectNode p) {
        return p.path("step").asInt() + ":" + p.path("index").asInt();
    }
}
