package dev.keel.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.agent.Agents;
import dev.keel.agent.RunEvent;
import dev.keel.agent.RunView;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Agents over HTTP: {@code GET /v1/agents} (each agent with the tools the caller's key may use), {@code POST
 * /v1/agents/{name}/runs} ({@code {"task", "stream"}}: the run view once the run stops or waits for a person, or an SSE
 * stream of its events then a {@code run} event with the view), {@code GET /v1/runs/{id}}, and {@code POST
 * /v1/runs/{id}/confirm|reject} (an optional body {@code {"stream"}}; none needed). The tenant is the key's (or {@code X-Keel-Tenant} without
 * keys); another tenant's run is a 404, a decision on a run that is not waiting a 409.
 */
public final class AgentRoutes {
    /** What starting a run takes: a misspelt field must not be silently ignored. */
    private static final List<String> START_FIELDS = List.of("task", "stream");
    private final Agents agents;
    private final int heartbeatSeconds;

    AgentRoutes(Agents agents, int heartbeatSeconds) {
        this.agents = agents;
        this.heartbeatSeconds = heartbeatSeconds;
    }

    void register(RoutesConfig routes) {
        routes.get("/v1/agents", this::list);
        routes.post("/v1/agents/{name}/runs", this::start);
        routes.get("/v1/runs/{id}", this::get);
        routes.post("/v1/runs/{id}/confirm", ctx -> decide(ctx, true));
        routes.post("/v1/runs/{id}/reject", ctx -> decide(ctx, false));
    }

    private void list(Context ctx) {
        ApiKey key = ctx.attribute(HttpServer.KEY_ATTR);
        List<Map<String, Object>> data = agents.list(key == null ? null : Set.copyOf(key.scopes())).stream()
                .map(a -> Map.<String, Object>of("name", a.name(), "description", a.description(), "tools", a.tools())).toList();
        HttpServer.json(ctx, 200, Map.of("object", "list", "data", data));
    }

    private void start(Context ctx) {
        ObjectNode body = Json.object(ctx.body());
        for (String field : (Iterable<String>) body::fieldNames) {
            if (!START_FIELDS.contains(field)) {
                String named = field.length() <= 64 ? field : field.substring(0, 64) + "…";
                throw ApiException.badRequest("unknown field '" + named + "'; starting a run takes " + START_FIELDS, named);
            }
        }
        String task = Json.requiredText(body, "task");
        String agent = ctx.pathParam("name");
        respond(ctx, body, listener -> agents.start(agent, task, caller(ctx), listener));
    }

    private void get(Context ctx) {
        RunView run = agents.get(ctx.pathParam("id"), caller(ctx)).orElseThrow(() -> Agents.notFound(ctx.pathParam("id")));
        HttpServer.json(ctx, 200, view(run));
    }

    private void decide(Context ctx, boolean approved) {
        ObjectNode body = ctx.body().isBlank() ? Json.object("{}") : Json.object(ctx.body());
        respond(ctx, body, listener -> agents.decide(ctx.pathParam("id"), approved, caller(ctx), listener));
    }

    private static ChatGateway.Caller caller(Context ctx) {
        return new ChatGateway.Caller(HttpServer.tenant(ctx), ctx.attribute(HttpServer.KEY_ATTR));
    }

    /** Runs {@code work} and answers with the view, or (with {@code "stream": true}) streams its events then the view. */
    private void respond(Context ctx, ObjectNode body, Function<java.util.function.Consumer<RunEvent>, RunView> work) {
        if (!Boolean.TRUE.equals(Json.optionalBool(body, "stream"))) {
            RunView run = work.apply(e -> {});
            ctx.header("x-keel-run-id", run.id());
            HttpServer.json(ctx, 200, view(run));
            return;
        }
        SseStream[] sse = new SseStream[1];
        try {
            RunView run = work.apply(e -> {
                if (sse[0] == null) {
                    if (e.payload().hasNonNull("run_id")) ctx.header("x-keel-run-id", e.payload().get("run_id").asText());
                    sse[0] = open(ctx);
                }
                sse[0].event(e.type().wire(), event(e));
            });
            if (sse[0] == null) sse[0] = open(ctx);
            sse[0].event("run", view(run));
        } finally {
            if (sse[0] != null) sse[0].close();
        }
    }

    private SseStream open(Context ctx) {
        try {
            return new SseStream(ctx, heartbeatSeconds);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A run as the API shows it (also what {@code keel agent run --json} prints). */
    public static Map<String, Object> view(RunView r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", r.id());
        out.put("object", "agent.run");
        out.put("agent", r.agent());
        out.put("status", r.status().wire());
        out.put("reason", r.reason());
        out.put("output", r.output());
        out.put("pending_confirmation", r.pending() == null ? null : Map.of("tool", r.pending().tool(), "summary", r.pending().summary()));
        out.put("steps", r.steps());
        out.put("tokens", r.tokens());
        out.put("cost_usd", r.costUsd());
        out.put("trace_id", r.traceId());
        out.put("events", r.events().stream().map(AgentRoutes::event).toList());
        return out;
    }

    /** One event as the API shows it. */
    public static Map<String, Object> event(RunEvent e) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seq", e.seq());
        out.put("type", e.type().wire());
        out.put("payload", e.payload());
        out.put("tokens", e.tokens());
        out.put("cost_usd", e.costUsd());
        out.put("at", java.time.Instant.ofEpochMilli(e.atMillis()).toString());
        return out;
    }
}
