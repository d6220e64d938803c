package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.Jackson;
import dev.keel.model.StreamListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A streamed reply held back from its client until the router's checks passed on it: chunks wait until the reply's
 * text (its first choice's) holds {@link ReplyChecks#OPENING_CHARS} characters, where refusals and hedges sit, or until
 * the reply ends. An opening that declines or hedges stops the stream (the upstream is cancelled and nothing reaches
 * the client); one that passes is released, and the rest streams through as it arrives. A reply that ended inside its
 * opening is judged whole ({@link ReplyChecks}: also too short). A reply that calls a tool is released at once (tool
 * calls are not judged). Not thread-safe: one stream's chunks arrive in order on one thread.
 */
final class HeldOpening implements StreamListener {
    private final ObjectNode request;
    private final StreamListener client;
    private final EscalationCheck checks;
    private final List<ObjectNode> held = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private String finish;
    private boolean released, clientOpen = true;
    private Optional<String> failure = Optional.empty();

    HeldOpening(ObjectNode request, StreamListener client, EscalationCheck checks) {
        this.request = request;
        this.client = client;
        this.checks = checks;
    }

    @Override
    public boolean onChunk(ObjectNode chunk) {
        if (released) return send(chunk);
        held.add(chunk);
        boolean toolCall = false;
        for (JsonNode choice : chunk.path("choices")) {
            if (choice.path("index").asInt(0) != 0) continue;
            text.append(choice.path("delta").path("content").asText(""));
            toolCall |= choice.path("delta").has("tool_calls");
            if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
        }
        if (toolCall) return release();
        if (text.length() < ReplyChecks.OPENING_CHARS) return true;
        failure = ReplyChecks.opening(text.toString());
        return failure.isEmpty() && release();
    }

    /**
     * After the stream ended: the check the reply failed, if any. A reply still held (it ended inside its opening) is
     * judged whole now and released when it passes; a failed reply stays held.
     */
    Optional<String> verdict() {
        if (released || failure.isPresent()) return failure;
        ObjectNode reply = Jackson.mapper().createObjectNode();
        ObjectNode choice = reply.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", text.toString());
        if (finish != null) choice.put("finish_reason", finish);
        failure = checks.failure(request, reply);
        if (failure.isEmpty()) release();
        return failure;
    }

    /** Sends what is held, failed or not (an escalation the key's limits refused leaves this reply, already paid for); false when the client left. */
    boolean release() {
        released = true;
        for (ObjectNode chunk : held) {
            if (!send(chunk)) break;
        }
        held.clear();
        return clientOpen;
    }

    private boolean send(ObjectNode chunk) {
        if (clientOpen) clientOpen = client.onChunk(chunk);
        return clientOpen;
    }
}
