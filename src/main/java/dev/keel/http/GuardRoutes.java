package dev.keel.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GuardConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.guard.Guard;
import dev.keel.guard.GuardResult;
import dev.keel.guard.GuardVerdict;
import dev.keel.guard.Redaction;
import dev.keel.model.ApiException;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/guard/check}: the guard's verdict on one text, for callers that run their own model
 * calls. It checks even with {@code guard.enabled: false} (the caller asked explicitly). The text
 * and what it contains are never logged or traced: the trace holds its length, the verdict, the
 * categories and the score.
 */
final class GuardRoutes {
    private static final Set<String> FIELDS = Set.of("text", "direction", "profile");

    private final Guard guard;
    private final ChatGateway gateway;

    GuardRoutes(Guard guard, ChatGateway gateway) {
        this.guard = guard;
        this.gateway = gateway;
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/guard/check", this::check);
    }

    private void check(Context ctx) {
        ObjectNode body = Json.object(ctx.body());
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) throw ApiException.badRequest("unknown field '" + clip(name) + "'; expected text, direction and profile", clip(name));
        }
        String text = Json.optionalText(body, "text");
        if (text == null) throw ApiException.badRequest("'text' is required", "text");
        if (text.length() > Guard.MAX_CHECK_CHARS) {
            throw new ApiException(413, "request_too_large", "'text' is " + text.length() + " characters, over the limit of " + Guard.MAX_CHECK_CHARS
                    + "; check it in parts", "text", "text_too_large");
        }
        Guard.Direction direction = QueryRoutes.enumParam(body, "direction", Guard.Direction.class, Guard.Direction.INPUT);
        ChatGateway.Caller caller = ChatRoutes.caller(Exchange.of(ctx));
        GuardConfig.Profile profile = QueryRoutes.enumParam(body, "profile", GuardConfig.Profile.class, gateway.guardProfile(caller));
        // The caller's policy (PII actions, topics) applies, as it would to its requests.
        Guard policed = gateway.guardOf(caller);
        GuardResult r = (policed == null ? guard : policed).check(text, direction, profile, new Redaction());
        Trace trace = HttpServer.trace(ctx);
        trace.attr("text.chars", text.length()).attr("guard.direction", lower(direction)).attr("guard.profile", lower(profile))
                .attr("guard.verdict", r.verdict().name()).attr("guard.score", ApiViews.round4(r.score()))
                .attr("guard.categories", String.join(",", r.categories())).attr("guard.entities", r.entities().size());
        HttpServer.json(ctx, 200, view(r, trace));
    }

    /** The check's JSON: {@link ApiViews#guard}, with {@code message} or {@code redacted_text} by verdict and each layer's signal. */
    private static Map<String, Object> view(GuardResult r, Trace trace) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "guard.check");
        out.putAll(ApiViews.guard(r));
        switch (r.verdict()) {
            case GuardVerdict.Redact redact -> out.put("redacted_text", redact.text());
            case GuardVerdict.Block block -> out.put("message", block.message());
            case GuardVerdict.Allow allow -> { }
        }
        out.put("signals", r.signals().stream().map(s -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", s.layer());
            m.put("category", s.category());
            m.put("score", ApiViews.round4(s.score()));
            return m;
        }).toList());
        if (r.privateOnly()) out.put("private_only", true);
        out.put("trace_id", trace.id());
        return out;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
