package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.GuardConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Precision and recall per entity type on {@code guard/pii/labelled.jsonl}: 366 texts with their
 * entities (type and exact value), a third of them hard negatives (dates, versions, order numbers,
 * UUIDs, hashes, ISBNs, invalid cards, IBANs and SSNs, placeholders). Phone numbers are
 * libphonenumber's example numbers of sixteen regions in national, international and E.164 form;
 * cards, IBANs, SSNs, addresses and tokens were drawn with a seeded generator, so they are valid but
 * not anyone's. A match must have the exact type and span. This is the detectors' own check; the
 * independent red-team suite measures them again.
 */
class PiiEvaluationTest {
    /** The targets on structured types. */
    private static final double MIN_RECALL = 0.98, MIN_PRECISION = 0.95;

    private record Counts(int truePositives, int falsePositives, int falseNegatives) {
        Counts plus(Counts o) {
            return new Counts(truePositives + o.truePositives, falsePositives + o.falsePositives, falseNegatives + o.falseNegatives);
        }

        double precision() {
            return truePositives + falsePositives == 0 ? 1 : (double) truePositives / (truePositives + falsePositives);
        }

        double recall() {
            return truePositives + falseNegatives == 0 ? 1 : (double) truePositives / (truePositives + falseNegatives);
        }
    }

    @Test
    void everyTypeReachesTheRecallAndPrecisionTargets() throws Exception {
        PiiScanner scanner = PiiScanner.of(GuardConfig.DEFAULTS.phoneRegions());
        Map<String, Counts> byType = new TreeMap<>();
        List<String> misses = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("/guard/pii/labelled.jsonl"), StandardCharsets.UTF_8))) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                JsonNode row = json.readTree(line);
                String text = row.get("text").asText();
                Set<PiiEntity> expected = new HashSet<>();
                for (JsonNode e : row.get("entities")) {
                    int start = text.indexOf(e.get("value").asText());
                    expected.add(new PiiEntity(e.get("type").asText(), start, start + e.get("value").asText().length()));
                }
                Set<PiiEntity> actual = new HashSet<>(scanner.detect(text));
                for (String type : GuardConfig.PII_TYPES) {
                    int tp = 0, fp = 0, fn = 0;
                    for (PiiEntity a : actual) if (a.type().equals(type)) { if (expected.contains(a)) tp++; else fp++; }
                    for (PiiEntity e : expected) if (e.type().equals(type) && !actual.contains(e)) fn++;
                    if (fp + fn > 0) misses.add("line " + n + " " + type + ": " + fp + " false, " + fn + " missed");
                    byType.merge(type, new Counts(tp, fp, fn), Counts::plus);
                }
            }
        }
        StringBuilder report = new StringBuilder(String.format("%-14s %5s %5s %5s %9s %7s%n", "type", "tp", "fp", "fn", "precision", "recall"));
        byType.forEach((type, c) -> report.append(String.format("%-14s %5d %5d %5d %9.3f %7.3f%n", type, c.truePositives, c.falsePositives,
                c.falseNegatives, c.precision(), c.recall())));
        System.out.print("PII evaluation (guard/pii/labelled.jsonl)\n" + report + String.join("\n", misses) + "\n");

        byType.forEach((type, c) -> {
            assertThat(c.recall()).as(type + " recall\n" + report).isGreaterThanOrEqualTo(MIN_RECALL);
            assertThat(c.precision()).as(type + " precision\n" + report).isGreaterThanOrEqualTo(MIN_PRECISION);
        });
    }
}
