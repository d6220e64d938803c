package dev.keel.http;

import dev.keel.eval.OnlineEvaluation;
import dev.keel.model.ApiException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/evals/online}: online evaluation's windows and alerts for one tenant — the caller's (a client key's
 * tenant; in open local mode, with no key, the one named by {@code ?tenant=} or {@code X-Keel-Tenant}, else the
 * default), or with the admin key any tenant named by {@code ?tenant=} (default: the default tenant). A client key naming another tenant is refused (403), so no tenant
 * reads another's numbers. Nothing process-wide (queue length, drops) is shown: it would reveal other tenants' traffic.
 */
final class EvalRoutes {
    static final String ONLINE_PATH = "/v1/evals/online";
    /** Significant digits of a p-value: enough to compare with any threshold, few enough to read. */
    private static final int P_DIGITS = 4;
    private final OnlineEvaluation online;

    EvalRoutes(OnlineEvaluation online) {
        this.online = online;
    }

    void register(RoutesConfig routes) {
        routes.get(ONLINE_PATH, this::online);
    }

    private void online(Context ctx) {
        String asked = ctx.queryParam("tenant");
        if (asked != null && !asked.matches(HttpServer.TENANT_PATTERN)) {
            throw ApiException.badRequest("'tenant' must be 1-64 letters, digits, '.', '_' or '-'", "tenant");
        }
        String tenant;
        if (Boolean.TRUE.equals(ctx.attribute(HttpServer.ADMIN_ATTR))) {
            tenant = asked == null ? dev.keel.Keel.DEFAULT_TENANT : asked;
        } else if (ctx.attribute(HttpServer.KEY_ATTR) == null) {
            tenant = asked == null ? HttpServer.tenant(ctx) : asked; // open local mode: X-Keel-Tenant names any tenant, so ?tenant= may too
        } else {
            tenant = HttpServer.tenant(ctx);
            if (asked != null && !asked.equals(tenant)) {
                throw new ApiException(403, "permission_error", "this key reads its own tenant's evaluations only; the admin key may name a tenant",
                        "tenant", "tenant_not_allowed");
            }
        }
        HttpServer.json(ctx, 200, view(online.report(tenant)));
    }

    private static Map<String, Object> view(OnlineEvaluation.Report r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "eval.online");
        out.put("tenant", r.tenant());
        out.put("enabled", r.enabled());
        out.put("sample_rate", r.sampleRate());
        out.put("window", Map.of("from", r.windowFrom().toString(), "to", r.windowTo().toString()));
        out.put("baseline", Map.of("from", r.baselineFrom().toString(), "to", r.windowFrom().toString()));
        out.put("metrics", r.signals().stream().filter(s -> !isDrift(s.name())).map(EvalRoutes::signal).toList());
        out.put("drift", r.signals().stream().filter(s -> isDrift(s.name())).map(EvalRoutes::signal).toList());
        out.put("alerts", r.alerts().stream().map(a -> Map.of("signal", a.signal(), "since", a.since().toString())).toList());
        return out;
    }

    private static boolean isDrift(String signal) {
        return List.of(OnlineEvaluation.IDK_RATE, OnlineEvaluation.TOP_SCORE, OnlineEvaluation.CENTROID_DISTANCE).contains(signal);
    }

    private static Map<String, Object> signal(OnlineEvaluation.Signal s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", s.name());
        out.put("window", side(s.window(), s.windowN()));
        out.put("baseline", side(s.baseline(), s.baselineN()));
        out.put("change", round(s.change()));
        out.put("threshold", s.threshold());
        out.put("p_value", significant(s.pValue()));
        out.put("alerting", s.alerting());
        return out;
    }

    private static Map<String, Object> side(Double mean, long n) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mean", round(mean));
        out.put("n", n);
        return out;
    }

    /** Four significant digits: a p-value of 3e-9 must not read 0.0; null stays null. */
    static Double significant(Double v) {
        return v == null || v == 0 || !Double.isFinite(v) ? v : Double.valueOf(new java.math.BigDecimal(v).round(new java.math.MathContext(P_DIGITS)).doubleValue());
    }

    /** Four decimals, as the other views show scores; null stays null. */
    private static Double round(Double v) {
        return v == null ? null : Math.round(v * 10_000) / 10_000.0;
    }
}
