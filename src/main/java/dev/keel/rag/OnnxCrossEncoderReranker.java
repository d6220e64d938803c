package dev.keel.rag;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.keel.config.ConfigException;
import dev.keel.config.RerankConfig;
import dev.keel.index.SearchHit;
import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A local cross-encoder (e.g. bge-reranker-base or ms-marco-MiniLM exported to ONNX) from a directory
 * holding {@code model.onnx} and {@code tokenizer.json}: each (query, document) pair is encoded
 * together, truncated to {@code max_tokens}, and scored by the model's first output (one logit per
 * pair; of two, the second — the "relevant" class). Loaded once at startup; a missing or unreadable
 * model is a {@link ConfigException} naming {@code rerank.onnx.model_dir}. Nothing is downloaded.
 * Thread-safe (ONNX Runtime sessions are); one call's time grows with candidates × max_tokens.
 */
final class OnnxCrossEncoderReranker implements Reranker {
    private static final String FIELD = "rerank.onnx.model_dir";

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean takesTypeIds;

    OnnxCrossEncoderReranker(RerankConfig.Onnx config) {
        Path dir = config.modelDir();
        Path model = dir.resolve("model.onnx"), vocabulary = dir.resolve("tokenizer.json");
        if (!Files.isDirectory(dir)) throw new ConfigException(FIELD, "not a directory: " + dir);
        for (Path p : List.of(model, vocabulary)) {
            if (!Files.isRegularFile(p)) throw new ConfigException(FIELD, "missing " + p.getFileName() + " in " + dir + " (it needs model.onnx and tokenizer.json)");
        }
        try {
            dev.keel.embed.DjlTracking.optOut();
            this.tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(vocabulary).optMaxLength(config.maxTokens()).optTruncation(true)
                    .optPadding(false).build();
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(FIELD, "cannot read " + vocabulary + " as a Hugging Face tokenizer: " + e.getMessage());
        }
        try {
            this.session = env.createSession(model.toString(), new OrtSession.SessionOptions());
        } catch (OrtException | RuntimeException e) {
            tokenizer.close();
            throw new ConfigException(FIELD, "cannot load " + model + " with ONNX Runtime: " + e.getMessage());
        }
        if (!session.getInputNames().containsAll(List.of("input_ids", "attention_mask"))) {
            close();
            throw new ConfigException(FIELD, model + " is not a cross-encoder: its inputs are " + session.getInputNames()
                    + ", expected input_ids and attention_mask (and optionally token_type_ids)");
        }
        this.takesTypeIds = session.getInputNames().contains("token_type_ids");
    }

    @Override
    public List<Ranked> rerank(String query, List<SearchHit> candidates, int limit) {
        if (candidates.isEmpty()) return List.of();
        Encoding[] pairs = new Encoding[candidates.size()];
        int width = 0;
        for (int i = 0; i < pairs.length; i++) {
            pairs[i] = tokenizer.encode(query, RemoteReranker.documentText(candidates.get(i)));
            width = Math.max(width, pairs[i].getIds().length);
        }
        long[] ids = new long[pairs.length * width], mask = new long[ids.length], types = new long[ids.length];
        for (int i = 0; i < pairs.length; i++) {
            System.arraycopy(pairs[i].getIds(), 0, ids, i * width, pairs[i].getIds().length);
            System.arraycopy(pairs[i].getAttentionMask(), 0, mask, i * width, pairs[i].getAttentionMask().length);
            System.arraycopy(pairs[i].getTypeIds(), 0, types, i * width, pairs[i].getTypeIds().length);
        }
        long[] shape = {pairs.length, width};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (takesTypeIds) inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            try (OrtSession.Result out = session.run(inputs)) {
                return best(scores(out.get(0).getValue(), pairs.length), limit);
            }
        } catch (OrtException e) {
            throw new Failure(Reason.ERROR, "the cross-encoder failed: " + e.getMessage());
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** One score per pair from logits shaped [n], [n, 1] or [n, 2] (then the second class). */
    private static double[] scores(Object logits, int n) {
        double[] out = new double[n];
        if (logits instanceof float[] flat && flat.length == n) {
            for (int i = 0; i < n; i++) out[i] = flat[i];
            return out;
        }
        if (logits instanceof float[][] rows && rows.length == n && rows[0].length >= 1) {
            for (int i = 0; i < n; i++) out[i] = rows[i][rows[i].length - 1];
            return out;
        }
        throw new Failure(Reason.MALFORMED, "the cross-encoder's output is not one logit per pair");
    }

    private static List<Ranked> best(double[] scores, int limit) {
        List<Ranked> ranked = new ArrayList<>(scores.length);
        for (int i = 0; i < scores.length; i++) ranked.add(new Ranked(i, scores[i]));
        ranked.sort((a, b) -> Double.compare(b.score(), a.score()));
        return ranked.subList(0, Math.min(limit, ranked.size()));
    }

    @Override
    public void close() {
        try {
            if (session != null) session.close();
        } catch (OrtException e) {
            // the session's native memory goes with the process
        } finally {
            if (tokenizer != null) tokenizer.close();
        }
    }
}
