package dev.keel.embed;

import java.util.List;
import java.util.Locale;

/**
 * A stand-in embedding model for tests that need vectors, not good ones: each word adds a weight
 * of its own (from its hash) to one of 256 dimensions, with a sign of its own. Deterministic, instant;
 * texts sharing words get similar unit vectors, and different texts rarely get equal similarities
 * (ties would make two correct indexes rank differently).
 */
public final class HashingEmbedder implements Embedder {
    private static final int DIMENSION = 256;
    /** Added to one dimension so a text without words still has a direction (a zero vector has no unit form). */
    private static final float NO_WORDS = 1e-3f;

    @Override
    public String modelId() {
        return "hashing-256";
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    @Override
    public List<float[]> embedDocuments(List<String> texts) {
        return texts.stream().map(HashingEmbedder::embed).toList();
    }

    @Override
    public float[] embedQuery(String query) {
        return embed(query);
    }

    private static float[] embed(String text) {
        float[] v = new float[DIMENSION];
        for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (word.isEmpty()) continue;
            int h = word.hashCode() * 0x9E3779B9;
            float weight = 1 + (h >>> 24) / 256f;
            v[Math.floorMod(h, DIMENSION)] += (h & 1) == 0 ? weight : -weight;
        }
        v[0] += NO_WORDS;
        return Vectors.normalize(v);
    }
}
