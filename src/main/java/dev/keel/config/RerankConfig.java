package dev.keel.config;

import java.net.URI;
import java.nio.file.Path;

/**
 * Reranking and query expansion. {@code method} reorders the first {@code candidates} fused hits
 * of a search or an answer's retrieval before they are cut to the requested number: {@code none}
 * keeps the fused order, {@code mmr} diversifies (Maximal Marginal Relevance, {@code mmrLambda}),
 * {@code remote} asks a Cohere-compatible {@code /rerank} server, {@code onnx} runs a local
 * cross-encoder from a model directory. {@code expansion} adds LLM-written queries (multi-query)
 * or a hypothetical answer passage (HyDE) to a search or an answer's retrieval; both are off by default.
 */
public record RerankConfig(Method method, int candidates, double mmrLambda, Remote remote, Onnx onnx, Expansion expansion) {
    public enum Method { NONE, MMR, REMOTE, ONNX }

    /** Wire shapes of {@code POST {base_url}/rerank}: Cohere's (also Jina's and vLLM's), or TEI's native one. */
    public enum Api { COHERE, TEI }

    /**
     * A rerank server ({@code POST {baseUrl}/rerank}); {@code baseUrl} null when none is configured.
     * The key is never logged or shown.
     */
    public record Remote(URI baseUrl, Api api, String apiKey, String model, int timeoutMs) {
        @Override
        public String toString() {
            return "Remote[" + baseUrl + ", " + model + ", " + timeoutMs + " ms]";
        }
    }

    /** A cross-encoder directory holding {@code model.onnx} and {@code tokenizer.json}; null when none. */
    public record Onnx(Path modelDir, int maxTokens) {}

    /**
     * Query expansion through the catalog chat model {@code model}: {@code queries} alternative
     * phrasings (multi-query; 0 = off) and/or one hypothetical answer passage ({@code hyde}), each
     * generation capped at {@code maxTokens}.
     */
    public record Expansion(String model, int queries, boolean hyde, int maxTokens) {
        /** At most this many alternatives: each is one more retrieval and one more query embedding (~10 ms here). */
        public static final int MAX_QUERIES = 5;
    }

    public static final RerankConfig DEFAULTS = new RerankConfig(Method.NONE, 20, 0.7,
            new Remote(null, Api.COHERE, null, "rerank-english-v3.0", 2_000), new Onnx(null, 512), new Expansion(null, 0, false, 256));

    /**
     * Reads the {@code rerank} section. The deprecated {@code search.mmr} / {@code search.mmr_lambda}
     * still work: they choose MMR and its lambda when this section does not.
     */
    static RerankConfig read(ConfigNode n, SearchConfig search) {
        Method method = n.enumValue("method", Method.class, null);
        if (search.mmr() && method != null && method != Method.MMR) {
            throw new ConfigException("search.mmr", "deprecated alias of rerank.method: mmr, and it contradicts rerank.method: "
                    + method.name().toLowerCase(java.util.Locale.ROOT) + "; remove search.mmr");
        }
        if (method == null) method = search.mmr() ? Method.MMR : DEFAULTS.method;
        RerankConfig config = new RerankConfig(method,
                n.integer("candidates", DEFAULTS.candidates, 1, 200),
                n.decimal("mmr_lambda", search.mmrLambda(), 0, 1),
                readRemote(n.child("remote")),
                readOnnx(n.child("onnx")),
                readExpansion(n.child("expansion")));
        if (method == Method.REMOTE && config.remote.baseUrl() == null) {
            throw new ConfigException(n.path("remote.base_url"), "required when rerank.method is remote, e.g. http://127.0.0.1:8787/v1");
        }
        if (method == Method.ONNX && config.onnx.modelDir() == null) {
            throw new ConfigException(n.path("onnx.model_dir"), "required when rerank.method is onnx: a directory with model.onnx and tokenizer.json");
        }
        return config;
    }

    private static Remote readRemote(ConfigNode n) {
        return new Remote(n.httpUrl("base_url"), n.enumValue("api", Api.class, DEFAULTS.remote.api()), n.string("api_key", null), n.string("model", DEFAULTS.remote.model()),
                n.integer("timeout_ms", DEFAULTS.remote.timeoutMs(), 50, 60_000));
    }

    private static Onnx readOnnx(ConfigNode n) {
        String dir = n.string("model_dir", null);
        return new Onnx(dir == null || dir.isBlank() ? null : Path.of(dir), n.integer("max_tokens", DEFAULTS.onnx.maxTokens(), 16, 8_192));
    }

    private static Expansion readExpansion(ConfigNode n) {
        Expansion e = new Expansion(n.string("model", null), n.integer("queries", DEFAULTS.expansion.queries(), 0, Expansion.MAX_QUERIES),
                n.bool("hyde", DEFAULTS.expansion.hyde()), n.integer("max_tokens", DEFAULTS.expansion.maxTokens(), 16, 4_096));
        if ((e.queries() > 0 || e.hyde()) && (e.model() == null || e.model().isBlank())) {
            throw new ConfigException(n.path("model"), "required when multi-query or HyDE is on: a chat model of the catalog");
        }
        return e;
    }
}
