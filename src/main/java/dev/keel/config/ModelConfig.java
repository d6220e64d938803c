package dev.keel.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A public model name, its kind (chat or embedding), and the ordered upstream targets that serve it (the first is tried first, the
 * rest are fallbacks), its context window in tokens (0 = unknown), what it supports (tools,
 * json_schema, stream), and optionally a cheaper catalog model to use when a request's estimated
 * cost is over the key's per-request cap. {@code firstByteTimeout} / {@code totalTimeout} override the
 * providers' own for this model (null: the provider's). {@code tier} (null: none) makes it the model the
 * router picks for requests of that complexity when a client asks for the model {@code auto}.
 */
public record ModelConfig(String name, Kind kind, List<Target> targets, int contextWindow, Set<Capability> capabilities, String downgrade,
                          Duration firstByteTimeout, Duration totalTimeout, Tier tier) {
    /** What the model serves: chat completions, or embeddings ({@code /v1/embeddings}). */
    public enum Kind { CHAT, EMBEDDING }

    /** Request features a model may lack. */
    public enum Capability { TOOLS, JSON_SCHEMA, STREAM }

    /** The virtual model name with which a client asks the router to pick a tier; no catalog model may take it. */
    public static final String AUTO = "auto";

    /** A router tier, cheapest first: the order escalation climbs. */
    public enum Tier { SMALL, MEDIUM, LARGE;

        /** The lower-case name used in keel.yaml and in routing decisions. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ModelConfig(String name, List<Target> targets) {
        this(name, Kind.CHAT, targets, 0, EnumSet.allOf(Capability.class), null, null, null);
    }

    public ModelConfig(String name, Kind kind, List<Target> targets, int contextWindow, Set<Capability> capabilities, String downgrade,
                       Duration firstByteTimeout, Duration totalTimeout) {
        this(name, kind, targets, contextWindow, capabilities, downgrade, firstByteTimeout, totalTimeout, null);
    }
    /**
     * One (provider, pinned upstream model id) pair and, optionally, its price in USD per million
     * tokens (input, output, cached input) and the most output tokens it produces per request; nulls
     * fall back to Keel's built-in table.
     */
    public record Target(String provider, String model, Double inputPerMTok, Double outputPerMTok, Double cachedInputPerMTok,
                         Integer maxOutputTokens) {
        public Target(String provider, String model) {
            this(provider, model, null, null, null, null);
        }
    }

    public ModelConfig {
        targets = List.copyOf(targets);
        capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
    }

    /** This model served by {@code only} (a subset of its targets, e.g. the private ones). */
    public ModelConfig withTargets(List<Target> only) {
        return new ModelConfig(name, kind, only, contextWindow, capabilities, downgrade, firstByteTimeout, totalTimeout, tier);
    }

    public boolean supports(Capability c) {
        return capabilities.contains(c);
    }

    static ModelConfig read(String name, ConfigNode n) {
        List<ConfigNode> list = n.list("targets");
        if (list.isEmpty()) throw new ConfigException(n.path("targets"), "at least one {provider, model} target is required");
        int window = n.integer("context_window", 0, 0, 100_000_000);
        Set<Capability> caps = EnumSet.allOf(Capability.class);
        if (n.has("supports")) {
            caps = EnumSet.noneOf(Capability.class);
            for (String c : n.string("supports", "").split(",")) {
                String v = c.strip();
                if (v.isEmpty()) continue;
                try {
                    caps.add(Capability.valueOf(v.toUpperCase(java.util.Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(n.path("supports"), "expected a comma-separated list of tools, json_schema, stream; got '" + v + "'");
                }
            }
        }
        Kind kind = n.enumValue("kind", Kind.class, Kind.CHAT);
        String downgrade = n.string("downgrade", null);
        Duration firstByte = n.has("first_byte_timeout_seconds") ? Duration.ofSeconds(n.integer("first_byte_timeout_seconds", 30, 1, 3600)) : null;
        Duration total = n.has("total_timeout_seconds") ? Duration.ofSeconds(n.integer("total_timeout_seconds", 120, 1, 3600)) : null;
        Tier tier = n.has("tier") ? n.enumValue("tier", Tier.class, null) : null;
        if (tier != null && kind != Kind.CHAT) throw new ConfigException(n.path("tier"), "only chat models have a router tier");
        return new ModelConfig(name, kind, list.stream().map(t -> {
            String provider = t.string("provider", null), model = t.string("model", null);
            if (provider == null) throw new ConfigException(t.path("provider"), "required");
            if (model == null) throw new ConfigException(t.path("model"), "required");
            Double in = t.has("input_per_mtok") ? t.decimal("input_per_mtok", 0, 0, 10_000) : null;
            Double out = t.has("output_per_mtok") ? t.decimal("output_per_mtok", 0, 0, 10_000) : null;
            Double cached = t.has("cached_input_per_mtok") ? t.decimal("cached_input_per_mtok", 0, 0, 10_000) : null;
            if ((in == null) != (out == null)) throw new ConfigException(t.path(in == null ? "input_per_mtok" : "output_per_mtok"), "give both input_per_mtok and output_per_mtok");
            Integer maxOutput = t.has("max_output_tokens") ? t.integer("max_output_tokens", 0, 1, 10_000_000) : null;
            return new Target(provider, model, in, out, cached, maxOutput);
        }).toList(), window, caps, downgrade, firstByte, total, tier);
    }
}
