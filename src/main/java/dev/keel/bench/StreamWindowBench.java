package dev.keel.bench;

import dev.keel.config.GuardConfig;
import dev.keel.embed.Embedder;
import dev.keel.guard.Guard;
import dev.keel.guard.Redaction;
import dev.keel.guard.StreamGuard;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the streaming output guard costs in time to first token: seeded synthetic replies (prose with
 * emails, phone numbers and amounts) are cut into token-sized deltas and fed to a {@link StreamGuard}
 * with the output checks on, and to one that only restores placeholders. It counts the deltas the
 * client waits for before its first visible text (times an assumed inter-token interval, that is
 * the added time to first token) and measures the guard's CPU per delta. In process, no network.
 */
public final class StreamWindowBench {
    /** A delta is about one token: 3-5 characters, as OpenAI-style tokenisers cut English prose. */
    private static final int MIN_DELTA = 3, MAX_DELTA = 5;
    private static final String[] WORDS = ("the invoice for your order was paid on time and the refund will reach your account within five "
            + "working days please contact support if anything looks wrong we are happy to help with billing questions").split(" ");
    private static final String[] ENTITIES = {"ann.smith@example.com", "+1 415 555 0100", "EUR 1,250.00", "order 48213", "billing@corp.example"};

    private StreamWindowBench() {}

    /** Deltas until the first visible text (p50, p99) with checks and restore-only, the added TTFT, and CPU per delta in microseconds. */
    public record Result(int replies, double heldP50, double heldP99, double restoreOnlyP50, double addedTtftP50Ms, double addedTtftP99Ms,
                         double tokenMs, double cpuPerDeltaP50Us, double cpuPerDeltaP99Us, double fixedWindowHeldP50) {}

    public static Result run(int replies, long seed, double tokenMs, Embedder embedder) {
        Guard guard = Guard.create(GuardConfig.DEFAULTS, embedder);
        Random random = new Random(seed);
        double[] held = new double[replies], restoreOnly = new double[replies], fixed = new double[replies];
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < replies; i++) {
            List<String> deltas = deltas(reply(random), random);
            held[i] = firstVisible(new StreamGuard(guard, new Redaction(), v -> false, true), deltas, cpu);
            restoreOnly[i] = firstVisible(new StreamGuard(guard, new Redaction(), v -> false, false), deltas, new ArrayList<>());
            int chars = 0, n = 0;
            while (n < deltas.size() && chars <= StreamGuard.WINDOW) chars += deltas.get(n++).length();
            fixed[i] = n;
        }
        double[] added = new double[replies];
        for (int i = 0; i < replies; i++) added[i] = (held[i] - restoreOnly[i]) * tokenMs;
        double[] us = cpu.stream().mapToDouble(Double::doubleValue).toArray();
        return new Result(replies, Measurements.percentile(held, 50), Measurements.percentile(held, 99), Measurements.percentile(restoreOnly, 50),
                Measurements.percentile(added, 50), Measurements.percentile(added, 99), tokenMs, Measurements.percentile(us, 50),
                Measurements.percentile(us, 99), Measurements.percentile(fixed, 50));
    }

    /** The 1-based number of the delta after which the client first sees text (all of them plus the end when none does). */
    private static int firstVisible(StreamGuard window, List<String> deltas, List<Double> cpuMicros) {
        for (int i = 0; i < deltas.size(); i++) {
            long start = System.nanoTime();
            String shown = window.accept(deltas.get(i));
            cpuMicros.add((System.nanoTime() - start) / 1e3);
            if (!shown.isEmpty()) return i + 1;
        }
        return deltas.size() + 1;
    }

    private static String reply(Random random) {
        StringBuilder sb = new StringBuilder();
        int words = 30 + random.nextInt(60);
        for (int w = 0; w < words; w++) {
            if (w > 0) sb.append(' ');
            sb.append(random.nextInt(12) == 0 ? ENTITIES[random.nextInt(ENTITIES.length)] : WORDS[random.nextInt(WORDS.length)]);
            if (random.nextInt(10) == 0) sb.append('.');
        }
        return sb.toString();
    }

    private static List<String> deltas(String text, Random random) {
        List<String> out = new ArrayList<>();
        for (int at = 0; at < text.length(); ) {
            int end = Math.min(text.length(), at + MIN_DELTA + random.nextInt(MAX_DELTA - MIN_DELTA + 1));
            out.add(text.substring(at, end));
            at = end;
        }
        return out;
    }
}
