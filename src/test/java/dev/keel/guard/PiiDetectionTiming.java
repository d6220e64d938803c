package dev.keel.guard;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.GuardConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Times {@code detect()} of the shipped PII detector on short prompts and on 10,000-character texts
 * and prints p50/p99 per call (a measurement, not a test: absolute times vary on shared machines).
 * Given JSONL files, it also counts what it finds in their {@code text} fields: on benign corpora
 * every finding is a false alarm or a real entity to check by hand. Run after {@code mvn
 * test-compile}: {@code java -cp target/classes:target/test-classes:CLASSPATH
 * dev.keel.guard.PiiDetectionTiming [FILE.jsonl…]}. {@code keel bench guard} times the same path
 * through {@code Guard.check(text, OUTPUT, …)}.
 */
final class PiiDetectionTiming {
    private static final int WARMUP = 3_000, RUNS = 5_000, LONG_RUNS = 500;

    private static final List<String> PROMPTS = List.of(
            "How do I reset my password if I no longer have access to my email?",
            "Summarise the attached quarterly report in three bullet points for the board.",
            "My name is Ann, email ann@example.com, phone +44 20 7946 0958. Please update my account.",
            "Can I ignore the previous invoice #20231129 from 2023-11-29 and pay the new one?",
            "Charge card 4111 1111 1111 1111 and refund to DE89 3704 0044 0532 0130 00.",
            "The server at 10.0.0.12 returns 502 since version 1.24.3; logs attached.",
            "export OPENAI_API_KEY=sk-proj-abc123DEF456ghi789JKL012mno345 then run the script",
            "What does 'you are now enrolled' mean in the benefits letter I received yesterday?");

    public static void main(String[] args) throws IOException {
        PiiScanner scanner = PiiScanner.of(GuardConfig.DEFAULTS.phoneRegions());
        String doc = longText(new Random(42));
        for (int i = 0; i < WARMUP; i++) scanner.detect(PROMPTS.get(i % PROMPTS.size()));
        for (int i = 0; i < LONG_RUNS / 5; i++) scanner.detect(doc);
        report("short prompt (" + PROMPTS.stream().mapToInt(String::length).sum() / PROMPTS.size() + " chars avg)", scanner, PROMPTS, RUNS);
        report("10k-char text (" + scanner.detect(doc).size() + " entities)", scanner, List.of(doc), LONG_RUNS);
        if (args.length > 0) count(scanner, args);
    }

    private static void count(PiiScanner scanner, String[] files) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> byType = new TreeMap<>();
        int texts = 0;
        long chars = 0;
        for (String file : files) {
            for (String line : Files.readAllLines(Path.of(file))) {
                String text = json.readTree(line).path("text").asText();
                texts++;
                chars += text.length();
                for (PiiEntity e : scanner.detect(text)) byType.merge(e.type(), 1, Integer::sum);
            }
        }
        System.out.printf("%d texts, %d characters: %s%n", texts, chars, byType);
    }

    private static void report(String name, PiiScanner scanner, List<String> texts, int runs) {
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            String text = texts.get(i % texts.size());
            long t = System.nanoTime();
            scanner.detect(text);
            nanos[i] = System.nanoTime() - t;
        }
        Arrays.sort(nanos);
        System.out.printf("%-34s p50 %7.3f ms   p99 %7.3f ms   (%d calls)%n", name, nanos[runs / 2] / 1e6, nanos[runs * 99 / 100] / 1e6, runs);
    }

    /** About 10,000 characters of prose with numbers, dates, versions and a few entities. */
    private static String longText(Random random) {
        String[] sentences = {
            "The release on 2024-03-15 moved the service from version 2.3.1 to 2.4.0 and cut latency by 18 percent.",
            "Customers in 12 regions reported 3 incidents, all closed within 48 hours according to ticket 88213.",
            "Contact the on-call engineer at oncall@example.com or +1 415-555-2671 if the queue exceeds 10000 items.",
            "Invoices are due within 30 days; order 4155552671 was paid by card 5555 5555 5555 4444 on 29/11/2023.",
            "The cluster at 192.168.10.24 and 2001:db8::17 serves about 1.5 million requests per day.",
            "Our quarterly revenue grew to 4.2 million EUR with 27 new enterprise accounts.",
            "Use the staging key only in tests; the production password is stored in the vault, never in code."};
        StringBuilder out = new StringBuilder();
        while (out.length() < 10_000) out.append(sentences[random.nextInt(sentences.length)]).append(' ');
        return out.substring(0, 10_000);
    }
}
