package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GuardConfig;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.ApiKeys;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/keys}: create (the secret is returned once), list and revoke client API keys; a key
 * may name its guard profile ({@code strict} or {@code trusted}), its guard policy (a name in
 * {@code guard.policies}; an unknown name is a 400) and the {@code scopes} it grants (agent tools).
 * Requires {@code Authorization: Bearer <admin key>}; disabled when no admin key is configured.
 */
final class AdminRoutes {
    private static final java.util.Set<String> KEY_FIELDS = new java.util.TreeSet<>(List.of("name", "tenant", "models", "requests_per_minute",
            "tokens_per_minute", "daily_budget_usd", "monthly_budget_usd", "max_cost_per_request_usd", "cache",
            "guard_profile", "guard_policy", "scopes"));
    /** What a scope may look like: short, no spaces, nothing a log or a header would mangle. */
    static final String SCOPE = "[A-Za-z0-9.:_-]{1,64}";
    private final ApiKeys keys;
    private final BearerSecret adminKey;
    /** The policies a key may name: {@code guard.policies}. */
    private final java.util.Set<String> guardPolicies;

    AdminRoutes(ApiKeys keys, BearerSecret adminKey, java.util.Set<String> guardPolicies) {
        this.keys = keys;
        this.adminKey = adminKey;
        this.guardPolicies = new java.util.TreeSet<>(guardPolicies);
    }

    void register(RoutesConfig routes) {
        routes.before("/admin/*", this::requireAdmin);
        routes.post("/admin/keys", this::create);
        routes.get("/admin/keys", this::list);
        routes.delete("/admin/keys/{id}", this::revoke);
    }

    private void requireAdmin(Context ctx) {
        if (!adminKey.isSet()) {
            throw new ApiException(403, "permission_error", "the admin API is disabled: set KEEL_ADMIN_KEY (or server.admin_key)", null, "admin_disabled");
        }
        if (!adminKey.presentedBy(ctx)) {
            throw new ApiException(401, "authentication_error", "the admin API needs 'Authorization: Bearer <admin key>'", null, "invalid_admin_key");
        }
    }

    private void create(Context ctx) {
        ObjectNode body = Json.object(ctx.body());
        // A misspelt limit must not silently create a key without that limit.
        body.fieldNames().forEachRemaining(field -> {
            if (!KEY_FIELDS.contains(field)) {
                throw ApiException.badRequest("unknown field '" + field + "'; a key takes " + KEY_FIELDS, field);
            }
        });
        String name = Json.requiredText(body, "name");
        String tenant = Json.requiredText(body, "tenant");
        if (!tenant.matches("[A-Za-z0-9._-]{1,64}")) throw ApiException.badRequest("'tenant' must be 1-64 letters, digits, '.', '_' or '-'", "tenant");
        List<String> models = Json.optionalStrings(body, "models");
        long rpm = Json.optionalInt(body, "requests_per_minute", 0, 0, 1_000_000);
        long tpm = Json.optionalInt(body, "tokens_per_minute", 0, 0, 1_000_000_000);
        double daily = nonNegative(Json.optionalDouble(body, "daily_budget_usd", 0, 1e9));
        double monthly = nonNegative(Json.optionalDouble(body, "monthly_budget_usd", 0, 1e9));
        double maxCost = nonNegative(Json.optionalDouble(body, "max_cost_per_request_usd", 0, 1e6));
        boolean cache = !Boolean.FALSE.equals(Json.optionalBool(body, "cache"));
        List<String> scopes = Json.optionalStrings(body, "scopes");
        for (String scope : scopes) {
            if (!scope.matches(SCOPE)) throw ApiException.badRequest("a scope is 1-64 letters, digits, '.', ':', '_' or '-'; got '" + scope + "'", "scopes");
        }
        ApiKeys.Created created = keys.create(name, tenant, models, rpm, tpm, daily, monthly, maxCost, cache, guardProfile(body), scopes,
                guardPolicy(body));
        Map<String, Object> out = view(created.key());
        out.put("key", created.secret());
        HttpServer.json(ctx, 201, out);
    }

    private void list(Context ctx) {
        HttpServer.json(ctx, 200, Map.of("object", "list", "data", keys.list().stream().map(AdminRoutes::view).toList()));
    }

    private void revoke(Context ctx) {
        String id = ctx.pathParam("id");
        if (!keys.revoke(id)) throw ApiException.notFound("no active key '" + id + "'");
        HttpServer.json(ctx, 200, Map.of("id", id, "object", "api_key", "revoked", true));
    }

    /** The key's {@code guard_profile}: strict, trusted, or absent (null: its tenant's). */
    private static GuardConfig.Profile guardProfile(ObjectNode body) {
        JsonNode p = body.get("guard_profile");
        if (p == null || p.isNull()) return null;
        return switch (p.isTextual() ? p.asText() : "") {
            case "strict" -> GuardConfig.Profile.STRICT;
            case "trusted" -> GuardConfig.Profile.TRUSTED;
            default -> throw ApiException.badRequest("'guard_profile' must be \"strict\" or \"trusted\" (or absent: the tenant's profile)",
                    "guard_profile");
        };
    }

    /** The key's {@code guard_policy}: a name in {@code guard.policies}, or absent (null: its tenant's). */
    private String guardPolicy(ObjectNode body) {
        JsonNode p = body.get("guard_policy");
        if (p == null || p.isNull()) return null;
        if (!p.isTextual() || !guardPolicies.contains(p.asText())) {
            throw ApiException.badRequest("'guard_policy' must name a policy of guard.policies " + guardPolicies + " (or be absent: the tenant's policy)",
                    "guard_policy");
        }
        return p.asText();
    }

    private static double nonNegative(Double v) {
        return v == null ? 0 : v;
    }

    private static Map<String, Object> view(ApiKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("object", "api_key");
        m.put("name", k.name());
        m.put("tenant", k.tenant());
        m.put("prefix", k.prefix());
        m.put("models", k.models());
        m.put("requests_per_minute", k.requestsPerMinute());
        m.put("tokens_per_minute", k.tokensPerMinute());
        m.put("daily_budget_usd", k.dailyBudgetUsd());
        m.put("monthly_budget_usd", k.monthlyBudgetUsd());
        m.put("max_cost_per_request_usd", k.maxCostPerRequestUsd());
        m.put("cache", k.cache());
        m.put("guard_profile", k.guardProfile() == null ? null : k.guardProfile().name().toLowerCase(java.util.Locale.ROOT));
        m.put("guard_policy", k.guardPolicy());
        m.put("scopes", k.scopes());
        m.put("created_at", Instant.ofEpochMilli(k.createdAtMillis()).toString());
        m.put("revoked_at", k.revokedAtMillis() == null ? null : Instant.ofEpochMilli(k.revokedAtMillis()).toString());
        return m;
    }
}
