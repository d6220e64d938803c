package dev.keel.store;

import dev.keel.config.GuardConfig;
import java.util.List;

/**
 * A client API key's policy (never the key itself): tenant, allowed models (empty = all), rate
 * limits (0 = unlimited), budgets in USD per UTC day and month and per request (0 = none), and
 * whether its requests may be served from and stored in Keel's response caches, and its guard
 * profile (null: its tenant's, see {@code guard.tenants}), and the scopes it grants (agent tools that declare
 * scopes are offered only to keys holding all of them).
 */
public record ApiKey(String id, String name, String tenant, String prefix, List<String> models, long requestsPerMinute,
                     long tokensPerMinute, double dailyBudgetUsd, double monthlyBudgetUsd, double maxCostPerRequestUsd,
                     long createdAtMillis, Long revokedAtMillis, boolean cache, GuardConfig.Profile guardProfile,
                     List<String> scopes) {
    public ApiKey {
        models = List.copyOf(models);
        scopes = List.copyOf(scopes);
    }

    /** Whether the key grants every one of {@code required}. */
    public boolean grants(java.util.Collection<String> required) {
        return scopes.containsAll(required);
    }

    public boolean allows(String model) {
        return models.isEmpty() || models.contains(model);
    }
}
