package dev.keel.store;

import dev.keel.config.GuardConfig;
import java.util.List;

/**
 * A client API key's policy (never the key itself): tenant, allowed models (empty = all), rate
 * limits (0 = unlimited), budgets in USD per UTC day and month and per request (0 = none), and
 * whether its requests may be served from and stored in Keel's response caches, and its guard
 * profile (null: its policy's, see {@code guard.tenants}), the scopes it grants (agent tools that declare
 * scopes are offered only to keys holding all of them), and the name of its guard policy in
 * {@code guard.policies} (null: its tenant's).
 */
public record ApiKey(String id, String name, String tenant, String prefix, List<String> models, long requestsPerMinute,
                     long tokensPerMinute, double dailyBudgetUsd, double monthlyBudgetUsd, double maxCostPerRequestUsd,
                     long createdAtMillis, Long revokedAtMillis, boolean cache, GuardConfig.Profile guardProfile,
                     List<String> scopes, String guardPolicy) {
    public ApiKey {
        models = List.copyOf(models);
        scopes = List.copyOf(scopes);
    }

    /** A key without a guard policy of its own: its tenant's applies. */
    public ApiKey(String id, String name, String tenant, String prefix, List<String> models, long requestsPerMinute, long tokensPerMinute,
                  double dailyBudgetUsd, double monthlyBudgetUsd, double maxCostPerRequestUsd, long createdAtMillis, Long revokedAtMillis,
                  boolean cache, GuardConfig.Profile guardProfile, List<String> scopes) {
        this(id, name, tenant, prefix, models, requestsPerMinute, tokensPerMinute, dailyBudgetUsd, monthlyBudgetUsd, maxCostPerRequestUsd,
                createdAtMillis, revokedAtMillis, cache, guardProfile, scopes, null);
    }

    /** Whether the key grants every one of {@code required}. */
    public boolean grants(java.util.Collection<String> required) {
        return scopes.containsAll(required);
    }

    public boolean allows(String model) {
        return models.isEmpty() || models.contains(model);
    }
}
