package dev.keel.config;

import java.util.List;

/**
 * A public model name and the ordered upstream targets that serve it: the first is tried first,
 * the rest are fallbacks.
 */
public record ModelConfig(String name, List<Target> targets) {
    /**
     * One (provider, pinned upstream model id) pair and, optionally, its price in USD per million
     * tokens (input, output, cached input); null prices fall back to Keel's built-in table.
     */
    public record Target(String provider, String model, Double inputPerMTok, Double outputPerMTok, Double cachedInputPerMTok) {
        public Target(String provider, String model) {
            this(provider, model, null, null, null);
        }
    }

    public ModelConfig {
        targets = List.copyOf(targets);
    }

    static ModelConfig read(String name, ConfigNode n) {
        List<ConfigNode> list = n.list("targets");
        if (list.isEmpty()) throw new ConfigException(n.path("targets"), "at least one {provider, model} target is required");
        return new ModelConfig(name, list.stream().map(t -> {
            String provider = t.string("provider", null), model = t.string("model", null);
            if (provider == null) throw new ConfigException(t.path("provider"), "required");
            if (model == null) throw new ConfigException(t.path("model"), "required");
            Double in = t.has("input_per_mtok") ? t.decimal("input_per_mtok", 0, 0, 10_000) : null;
            Double out = t.has("output_per_mtok") ? t.decimal("output_per_mtok", 0, 0, 10_000) : null;
            Double cached = t.has("cached_input_per_mtok") ? t.decimal("cached_input_per_mtok", 0, 0, 10_000) : null;
            if ((in == null) != (out == null)) throw new ConfigException(t.path(in == null ? "input_per_mtok" : "output_per_mtok"), "give both input_per_mtok and output_per_mtok");
            return new Target(provider, model, in, out, cached);
        }).toList());
    }
}
