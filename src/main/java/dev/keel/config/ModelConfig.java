package dev.keel.config;

import java.util.List;

/**
 * A public model name and the ordered upstream targets that serve it: the first is tried first,
 * the rest are fallbacks.
 */
public record ModelConfig(String name, List<Target> targets) {
    /** One (provider, pinned upstream model id) pair. */
    public record Target(String provider, String model) {}

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
            return new Target(provider, model);
        }).toList());
    }
}
