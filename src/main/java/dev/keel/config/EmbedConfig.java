package dev.keel.config;

/** Embedding settings. {@code threads} is the number of concurrent ONNX inferences. */
public record EmbedConfig(String model, int threads, int batchSize) {
    public static final String BGE_SMALL = "bge-small-en-v1.5-q";
    public static final EmbedConfig DEFAULTS =
            new EmbedConfig(BGE_SMALL, Math.max(1, Runtime.getRuntime().availableProcessors()), 32);

    static EmbedConfig read(ConfigNode n) {
        String model = n.string("model", DEFAULTS.model);
        if (!model.equals(BGE_SMALL)) {
            throw new ConfigException(n.path("model"), "expected one of [" + BGE_SMALL + "], got '" + model + "'");
        }
        return new EmbedConfig(model, n.integer("threads", DEFAULTS.threads, 1, 256), n.integer("batch_size", DEFAULTS.batchSize, 1, 4096));
    }
}
