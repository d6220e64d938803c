package dev.keel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Deterministic (seeded) synthetic documentation for benchmarks: Markdown pages with headed
 * sections of English-like sentences whose words follow a Zipf distribution over a fixed
 * vocabulary, so BM25 sees realistic term statistics. Also topic-clustered unit vectors for
 * indexes too large to embed with the real model in a benchmark's time.
 */
public final class SyntheticCorpus {
    private static final String[] STEMS = {"account", "api", "billing", "cache", "cluster", "config", "data", "deploy", "event", "export",
            "feature", "gateway", "index", "invoice", "key", "latency", "limit", "log", "metric", "model", "node", "plan", "policy",
            "project", "query", "quota", "region", "replica", "report", "request", "retention", "role", "schema", "search", "secret",
            "server", "service", "session", "shard", "storage", "stream", "support", "tenant", "token", "trace", "upload", "user",
            "version", "webhook", "workspace"};
    private static final String[] SUFFIXES = {"", "s", "ing", "ed", "er", "ment", "al", "ly", "ation", "ive"};
    private static final String[] GLUE = {"the", "a", "to", "of", "and", "in", "for", "is", "on", "with", "by", "when", "after", "before"};

    private final String[] vocabulary;
    private final double[] cumulative;
    private final long seed;

    public SyntheticCorpus(long seed) {
        this.seed = seed;
        List<String> words = new ArrayList<>();
        for (String s : STEMS) for (String x : SUFFIXES) words.add(s + x);
        Random r = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            StringBuilder w = new StringBuilder();
            int len = 4 + r.nextInt(6);
            for (int j = 0; j < len; j++) w.append((char) ('a' + r.nextInt(26)));
            words.add(w.toString());
        }
        vocabulary = words.toArray(String[]::new);
        cumulative = new double[vocabulary.length];
        double total = 0;
        for (int i = 0; i < vocabulary.length; i++) {
            total += 1.0 / Math.pow(i + 1, 1.07);
            cumulative[i] = total;
        }
        for (int i = 0; i < cumulative.length; i++) cumulative[i] /= total;
    }

    /** Document {@code n} of the corpus as Markdown, about {@code sections} × 120 words. */
    public String document(int n, int sections) {
        SplittableRandom r = new SplittableRandom(seed * 31 + n);
        StringBuilder md = new StringBuilder("# ").append(title(r)).append(" guide ").append(n).append("\n\n");
        for (int s = 0; s < sections; s++) {
            md.append("## ").append(title(r)).append("\n\n");
            int paragraphs = 1 + r.nextInt(3);
            for (int p = 0; p < paragraphs; p++) md.append(paragraph(r, 2 + r.nextInt(4))).append("\n\n");
        }
        return md.toString();
    }

    /** A short keyword query drawn from the same distribution. */
    public String query(int n) {
        SplittableRandom r = new SplittableRandom(seed * 17 + n);
        StringBuilder q = new StringBuilder();
        int words = 2 + r.nextInt(4);
        for (int i = 0; i < words; i++) q.append(i == 0 ? "" : " ").append(word(r, 30));
        return q.toString();
    }

    /** A paragraph body for synthetic chunks. */
    public String paragraph(SplittableRandom r, int sentences) {
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            int words = 8 + r.nextInt(14);
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < words; w++) {
                String word = w % 3 == 1 ? GLUE[r.nextInt(GLUE.length)] : word(r, 0);
                s.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : " " + word);
            }
            p.append(i == 0 ? "" : " ").append(s).append('.');
        }
        return p.toString();
    }

    /** A unit vector near one of {@code topics} seeded centroids: clustered like real embeddings. */
    public static float[] clusteredVector(SplittableRandom r, float[][] centroids, double noise) {
        float[] c = centroids[r.nextInt(centroids.length)];
        float[] v = new float[c.length];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (c[i] + noise * gaussian(r));
            norm += v[i] * v[i];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < v.length; i++) v[i] /= (float) norm;
        return v;
    }

    public static float[][] centroids(long seed, int topics, int dimension) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] out = new float[topics][dimension];
        for (float[] c : out) for (int i = 0; i < dimension; i++) c[i] = (float) (gaussian(r) / Math.sqrt(dimension));
        return out;
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private String title(SplittableRandom r) {
        String a = word(r, 40), b = word(r, 40);
        return Character.toUpperCase(a.charAt(0)) + a.substring(1) + " " + b;
    }

    private String word(SplittableRandom r, int skipTop) {
        double u = cumulative[skipTop] + r.nextDouble() * (1 - cumulative[skipTop]);
        int lo = 0, hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) lo = mid + 1;
            else hi = mid;
        }
        return vocabulary[lo];
    }
}
