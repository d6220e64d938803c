package dev.keel.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Providers and the model catalog of the OpenAI-compatible gateway (every target names a declared
 * provider), where budget warnings are posted ({@code gateway.budget_webhook_url}, optional), and
 * the output limit assumed for models whose own limit Keel does not know
 * ({@code gateway.default_max_output_tokens}).
 */
public record GatewayConfig(Map<String, ProviderConfig> providers, Map<String, ModelConfig> models, java.net.URI budgetWebhook,
                            int defaultMaxOutputTokens) {
    static final int DEFAULT_MAX_OUTPUT_TOKENS = 4096;
    public static final GatewayConfig EMPTY = new GatewayConfig(Map.of(), Map.of(), null, DEFAULT_MAX_OUTPUT_TOKENS);

    public GatewayConfig {
        providers = Map.copyOf(providers);
        models = Map.copyOf(models);
    }

    static GatewayConfig read(ConfigNode providersNode, ConfigNode modelsNode, ConfigNode gatewayNode) {
        Map<String, ProviderConfig> providers = new LinkedHashMap<>();
        for (String name : providersNode.keys()) providers.put(name, ProviderConfig.read(name, providersNode.child(name)));
        Map<String, ModelConfig> models = new LinkedHashMap<>();
        Map<ModelConfig.Tier, String> tiers = new java.util.EnumMap<>(ModelConfig.Tier.class);
        for (String name : modelsNode.keys()) {
            if (ModelConfig.AUTO.equals(name)) throw new ConfigException("models." + name, "'auto' is reserved for the router's virtual model");
            ModelConfig m = ModelConfig.read(name, modelsNode.child(name));
            if (m.tier() != null && tiers.putIfAbsent(m.tier(), name) != null) {
                throw new ConfigException("models." + name + ".tier", "tier '" + m.tier().label() + "' is already model '" + tiers.get(m.tier())
                        + "'; each tier names one model");
            }
            for (int i = 0; i < m.targets().size(); i++) {
                ProviderConfig p = providers.get(m.targets().get(i).provider());
                if (p == null) {
                    throw new ConfigException("models." + name + ".targets[" + i + "].provider",
                            "unknown provider '" + m.targets().get(i).provider() + "'; declared: " + providers.keySet());
                }
                if (m.kind() == ModelConfig.Kind.EMBEDDING && p.type() != ProviderConfig.Type.OPENAI) {
                    throw new ConfigException("models." + name + ".targets[" + i + "].provider",
                            "embedding models need an openai-type provider (an OpenAI-compatible /embeddings endpoint); '" + p.name() + "' is " + p.type().name().toLowerCase());
                }
            }
            models.put(name, m);
        }
        for (ModelConfig m : models.values()) {
            if (m.downgrade() != null && !models.containsKey(m.downgrade())) {
                throw new ConfigException("models." + m.name() + ".downgrade", "unknown model '" + m.downgrade() + "'; catalog: " + models.keySet());
            }
        }
        String hook = gatewayNode.string("budget_webhook_url", null);
        java.net.URI webhook = null;
        if (hook != null && !hook.isBlank()) {
            try {
                webhook = java.net.URI.create(hook);
                if (webhook.getHost() == null || !("http".equals(webhook.getScheme()) || "https".equals(webhook.getScheme()))) throw new IllegalArgumentException();
            } catch (IllegalArgumentException e) {
                throw new ConfigException(gatewayNode.path("budget_webhook_url"), "expected an http(s) URL, got '" + hook + "'");
            }
        }
        return new GatewayConfig(providers, models, webhook,
                gatewayNode.integer("default_max_output_tokens", DEFAULT_MAX_OUTPUT_TOKENS, 1, 10_000_000));
    }
}
