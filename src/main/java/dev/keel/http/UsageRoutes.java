package dev.keel.http;

import dev.keel.model.ApiException;
import dev.keel.store.Ledger;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /v1/usage?group_by=key|model|day&from=YYYY-MM-DD&to=YYYY-MM-DD}: the tenant's requests,
 * tokens and cost from the ledger (dates in UTC; {@code to} inclusive; default the last 30 days).
 */
final class UsageRoutes {
    private final Ledger ledger;

    UsageRoutes(Ledger ledger) {
        this.ledger = ledger;
    }

    void register(RoutesConfig routes) {
        routes.get("/v1/usage", this::usage);
    }

    private void usage(Context ctx) {
        String by = ctx.queryParam("group_by") == null ? "day" : ctx.queryParam("group_by").toLowerCase(Locale.ROOT);
        Ledger.GroupBy groupBy = switch (by) {
            case "key" -> Ledger.GroupBy.KEY;
            case "model" -> Ledger.GroupBy.MODEL;
            case "day" -> Ledger.GroupBy.DAY;
            default -> throw ApiException.badRequest("'group_by' must be key, model or day", "group_by");
        };
        LocalDate to = date(ctx, "to", LocalDate.now(ZoneOffset.UTC));
        LocalDate from = date(ctx, "from", to.minusDays(29));
        if (from.isAfter(to)) throw ApiException.badRequest("'from' is after 'to'", "from");
        ledger.flush();
        List<Ledger.Row> rows = ledger.usage(HttpServer.tenant(ctx), groupBy, from.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli(),
                to.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli());
        List<Map<String, Object>> data = rows.stream().map(r -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(by, r.group());
            m.put("requests", r.requests());
            m.put("failed_requests", r.failedRequests());
            m.put("prompt_tokens", r.promptTokens());
            m.put("completion_tokens", r.completionTokens());
            m.put("cached_tokens", r.cachedTokens());
            // A sum of many small doubles: rounded to a billionth of a dollar, so 0.041076 does not read 0.041075999999999994.
            m.put("cost_usd", Math.round(r.costUsd() * 1e9) / 1e9);
            m.put("estimated_usage_requests", r.estimatedRequests());
            m.put("unpriced_requests", r.unpricedRequests());
            return m;
        }).toList();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "list");
        out.put("group_by", by);
        out.put("from", from.toString());
        out.put("to", to.toString());
        out.put("data", data);
        HttpServer.json(ctx, 200, out);
    }

    /** Dates outside these years are mistakes, and far enough out they overflow epoch milliseconds. */
    private static final int MIN_YEAR = 1970, MAX_YEAR = 9999;

    private static LocalDate date(Context ctx, String name, LocalDate fallback) {
        String v = ctx.queryParam(name);
        if (v == null) return fallback;
        LocalDate date;
        try {
            date = LocalDate.parse(v);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("'" + name + "' must be a date like 2026-01-31", name);
        }
        if (date.getYear() < MIN_YEAR || date.getYear() > MAX_YEAR) {
            throw ApiException.badRequest("'" + name + "' must be a date between the years " + MIN_YEAR + " and " + MAX_YEAR, name);
        }
        return date;
    }
}
