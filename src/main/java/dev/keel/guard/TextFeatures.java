package dev.keel.guard;

import java.util.Arrays;
import java.util.Locale;

/**
 * Cheap lexical features of a text for the n-gram classifier: character 3- to 5-grams of the lower-cased
 * text and word uni- and bigrams, hashed into {@link #DIMENSIONS} signed buckets, log-scaled counts,
 * unit length. Deterministic across JVMs (only {@code char} arithmetic), linear in the text, and
 * bounded: at most {@link #MAX_CHARS} characters are read (head and tail). Stateless.
 */
final class TextFeatures {
    /** Hash buckets: 2^16 keeps the shipped weights at 256 KB with few harmful collisions at this vocabulary. */
    static final int DIMENSIONS = 1 << 16;
    /** Characters featurised; a long jailbreak shows itself in its first few thousand characters or its end. */
    static final int MAX_CHARS = 6_000;
    private static final int TAIL_CHARS = 1_500;
    private static final int MIN_GRAM = 3, MAX_GRAM = 5;
    /** Seeds that keep the three feature families in different parts of the hash space. */
    private static final int CHAR_SEED = 0x9E3779B9, WORD_SEED = 0x85EBCA6B, BIGRAM_SEED = 0xC2B2AE35;

    /** A sparse unit vector: bucket indices (sorted, distinct) and their values. */
    record Sparse(int[] index, float[] value) {}

    private TextFeatures() {}

    static Sparse of(String text) {
        String t = window(text).toLowerCase(Locale.ROOT);
        float[] dense = new float[DIMENSIONS];
        int[] touched = new int[Math.min(DIMENSIONS, 8 * t.length() + 16)];
        int[] count = {0};
        String padded = " " + t + " ";
        for (int i = 0; i < padded.length(); i++) {
            int h = CHAR_SEED;
            for (int n = 1; n <= MAX_GRAM && i + n <= padded.length(); n++) {
                h = h * 31 + padded.charAt(i + n - 1);
                if (n >= MIN_GRAM) add(dense, touched, count, mix(h + n));
            }
        }
        int prev = 0;
        boolean hasPrev = false;
        for (int i = 0; i < t.length(); ) {
            while (i < t.length() && !Character.isLetterOrDigit(t.charAt(i))) i++;
            if (i >= t.length()) break;
            int h = WORD_SEED;
            while (i < t.length() && Character.isLetterOrDigit(t.charAt(i))) h = h * 31 + t.charAt(i++);
            add(dense, touched, count, mix(h));
            if (hasPrev) add(dense, touched, count, mix(prev * 31 + h + BIGRAM_SEED));
            prev = h;
            hasPrev = true;
        }
        int[] index = Arrays.stream(touched, 0, count[0]).sorted().distinct().filter(b -> dense[b] != 0).toArray();
        float[] value = new float[index.length];
        double norm = 0;
        for (int k = 0; k < index.length; k++) {
            float c = dense[index[k]];
            value[k] = (float) (Math.signum(c) * Math.log1p(Math.abs(c)));
            norm += value[k] * value[k];
        }
        if (norm > 0) {
            float inv = (float) (1 / Math.sqrt(norm));
            for (int k = 0; k < value.length; k++) value[k] *= inv;
        }
        return new Sparse(index, value);
    }

    /** The part of a text that is featurised: all of it, or its head and tail. */
    static String window(String text) {
        if (text.length() <= MAX_CHARS) return text;
        return text.substring(0, MAX_CHARS - TAIL_CHARS) + "\n" + text.substring(text.length() - TAIL_CHARS);
    }

    private static void add(float[] dense, int[] touched, int[] count, int hash) {
        int bucket = hash & (DIMENSIONS - 1);
        float sign = (hash & 0x40000000) == 0 ? 1 : -1;
        if (dense[bucket] == 0 && count[0] < touched.length) touched[count[0]++] = bucket;
        dense[bucket] += sign;
    }

    /** Murmur3's finaliser: spreads the polynomial hash over all bits. */
    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }
}
