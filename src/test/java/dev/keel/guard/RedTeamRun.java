package dev.keel.guard;

import dev.keel.config.GuardConfig;
import dev.keel.config.GuardConfig.Profile;
import dev.keel.guard.RedTeamSuite.Attack;
import dev.keel.guard.RedTeamSuite.Benign;
import dev.keel.guard.RedTeamSuite.Entity;
import dev.keel.guard.RedTeamSuite.PiiCase;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One pass of red-team rows through a guard and what it scored: each attack's and benign prompt's
 * outcome under both profiles, exact-match PII counts per entity type, and any broken promise of the
 * guard's results (spans out of order or outside the text, a detected value in signals, messages or
 * a redacted text). {@link #report} formats the figures.
 */
final class RedTeamRun {
    static final List<String> STRUCTURED = List.of("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS");

    /** Whether one prompt was blocked as an injection under each profile. */
    record Outcome(boolean strict, boolean trusted) {}

    /** Exact type-and-span counts of one entity type. */
    record Counts(int truePositives, int falsePositives, int falseNegatives) {
        static final Counts ZERO = new Counts(0, 0, 0);

        Counts plus(Counts o) {
            return new Counts(truePositives + o.truePositives, falsePositives + o.falsePositives, falseNegatives + o.falseNegatives);
        }

        /** Of what was reported, how much was right; 0 when nothing was reported, so an empty detector does not pass. */
        double precision() {
            return truePositives + falsePositives == 0 ? 0 : (double) truePositives / (truePositives + falsePositives);
        }

        double recall() {
            return truePositives + falseNegatives == 0 ? 0 : (double) truePositives / (truePositives + falseNegatives);
        }

        double f1() {
            double p = precision(), r = recall();
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
    }

    final Map<Attack, Outcome> attacks = new LinkedHashMap<>();
    final Map<Benign, Outcome> benign = new LinkedHashMap<>();
    final Map<String, Counts> pii = new TreeMap<>();
    final List<String> violations = new ArrayList<>();
    /** Nanoseconds of each strict input check, for the report only: CI never gates on absolute times. */
    private final List<Long> strictNanos = new ArrayList<>();
    private final int piiCases;
    private final long millis;

    RedTeamRun(Guard guard, List<Attack> attacks, List<Benign> benign, List<PiiCase> pii) {
        long started = System.nanoTime();
        for (Attack a : attacks) this.attacks.put(a, outcome(guard, a.text()));
        for (Benign b : benign) this.benign.put(b, outcome(guard, b.text()));
        for (String type : GuardConfig.PII_TYPES) this.pii.put(type, Counts.ZERO);
        for (PiiCase c : pii) {
            // The output direction runs the same PII detectors without the injection gate in front,
            // so these figures measure the detectors alone.
            GuardResult result = guard.check(c.text(), Guard.Direction.OUTPUT, Profile.STRICT, new Redaction());
            audit(c, result);
            score(c, result.entities());
        }
        piiCases = pii.size();
        millis = (System.nanoTime() - started) / 1_000_000;
    }

    double detection(Predicate<Outcome> profile) {
        return rate(attacks.values(), profile);
    }

    double falsePositives(Predicate<Outcome> profile) {
        return rate(benign.values(), profile);
    }

    Counts structured() {
        return STRUCTURED.stream().map(pii::get).reduce(Counts.ZERO, Counts::plus);
    }

    /** Blocked as a prompt injection; a PII redaction is not a detection. */
    private Outcome outcome(Guard guard, String text) {
        long started = System.nanoTime();
        boolean strict = injection(guard.check(text, Guard.Direction.INPUT, Profile.STRICT, new Redaction()));
        strictNanos.add(System.nanoTime() - started);
        return new Outcome(strict, injection(guard.check(text, Guard.Direction.INPUT, Profile.TRUSTED, new Redaction())));
    }

    private static boolean injection(GuardResult r) {
        return r.verdict() instanceof GuardVerdict.Block b && b.code().equals("prompt_injection");
    }

    /**
     * The guard's promises about one result: entities sorted, not overlapping and inside the text; no
     * detected value in what is traced (signals, categories) or shown (a block's message); and a
     * redacted text that holds none of the values its policy redacts.
     */
    private void audit(PiiCase c, GuardResult r) {
        int previousEnd = 0;
        for (PiiEntity e : r.entities()) {
            if (e.start() < previousEnd || e.end() > c.text().length()) violations.add(c.id() + ": span " + e.start() + ".." + e.end());
            previousEnd = Math.max(previousEnd, e.end());
        }
        StringBuilder traced = new StringBuilder(String.join(" ", r.categories()));
        r.signals().forEach(s -> traced.append(' ').append(s.layer()).append(' ').append(s.category()));
        if (r.verdict() instanceof GuardVerdict.Block b) traced.append(' ').append(b.message());
        String redacted = r.verdict() instanceof GuardVerdict.Redact red ? red.text() : "";
        for (Entity e : c.entities()) {
            if (!r.entities().contains(new PiiEntity(e.type(), e.start(), e.end()))) continue;
            String value = c.text().substring(e.start(), e.end());
            if (traced.indexOf(value) >= 0) violations.add(c.id() + ": a detected " + e.type() + " value is in the signals or message");
            boolean redacts = GuardConfig.DEFAULTS.output().pii().get(e.type()) == GuardConfig.Action.REDACT;
            if (redacts && redacted.contains(value)) violations.add(c.id() + ": a redacted " + e.type() + " value is still in the text");
        }
    }

    /** A hit is the exact type and span; types outside {@link GuardConfig#PII_TYPES} are not scored. */
    private void score(PiiCase c, List<PiiEntity> found) {
        Set<Entity> expected = new HashSet<>(c.entities());
        Set<Entity> reported = new HashSet<>();
        for (PiiEntity e : found) reported.add(new Entity(e.type(), e.start(), e.end()));
        for (String type : GuardConfig.PII_TYPES) {
            int tp = 0, fp = 0, fn = 0;
            for (Entity e : reported) {
                if (!e.type().equals(type)) continue;
                if (expected.contains(e)) tp++;
                else fp++;
            }
            for (Entity e : expected) if (e.type().equals(type) && !reported.contains(e)) fn++;
            pii.merge(type, new Counts(tp, fp, fn), Counts::plus);
        }
    }

    private static double rate(Collection<Outcome> outcomes, Predicate<Outcome> flagged) {
        return outcomes.isEmpty() ? 0 : (double) outcomes.stream().filter(flagged).count() / outcomes.size();
    }

    String report() {
        StringBuilder out = new StringBuilder("\n=== red-team suite (src/test/resources/guard/redteam) ===\n");
        out.append("%d attacks, %d benign prompts, %d PII cases through the guard in %d ms%n".formatted(attacks.size(), benign.size(), piiCases, millis));
        if (!strictNanos.isEmpty()) {
            List<Long> sorted = strictNanos.stream().sorted().toList();
            out.append("input check (strict), this run on this machine: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n".formatted(
                    sorted.get(sorted.size() / 2) / 1e6, sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1) / 1e6,
                    sorted.get(sorted.size() - 1) / 1e6));
        }
        out.append("%-40s %6s %8s %8s%n".formatted("injection", "n", "strict", "trusted"));
        line(out, "detection rate, all attacks", attacks.values());
        section(out, "  technique ", attacks, Attack::technique);
        section(out, "  persona ", attacks, Attack::persona);
        section(out, "  language ", attacks, Attack::lang);
        line(out, "false-positive rate, all benign", benign.values());
        section(out, "  kind ", benign, Benign::kind);
        out.append("%-40s %6s %8s %8s %8s%n".formatted("PII (exact type and span)", "n", "prec", "recall", "F1"));
        pii.forEach((type, c) -> piiLine(out, "  " + type, c));
        piiLine(out, "structured types together", structured());
        out.append("missed attacks (strict): ").append(ids(attacks, o -> !o.strict(), Attack::id)).append('\n');
        out.append("blocked benign prompts (strict): ").append(ids(benign, Outcome::strict, Benign::id)).append('\n');
        if (!violations.isEmpty()) out.append("broken promises: ").append(violations).append('\n');
        return out.toString();
    }

    /** The ids of the rows an outcome selects, or only their number when there are too many to read. */
    private static <T> String ids(Map<T, Outcome> rows, Predicate<Outcome> selected, Function<T, String> id) {
        List<String> out = new ArrayList<>();
        rows.forEach((row, o) -> { if (selected.test(o)) out.add(id.apply(row)); });
        return out.size() > 60 ? out.size() + " rows" : out.toString();
    }

    private static <T> void section(StringBuilder out, String prefix, Map<T, Outcome> rows, Function<T, String> key) {
        Map<String, List<Outcome>> groups = new TreeMap<>();
        rows.forEach((row, o) -> groups.computeIfAbsent(key.apply(row), k -> new ArrayList<>()).add(o));
        groups.forEach((k, v) -> line(out, prefix + k, v));
    }

    private static void line(StringBuilder out, String label, Collection<Outcome> outcomes) {
        out.append("%-40s %6d %7.1f%% %7.1f%%%n".formatted(label, outcomes.size(), 100 * rate(outcomes, Outcome::strict),
                100 * rate(outcomes, Outcome::trusted)));
    }

    private static void piiLine(StringBuilder out, String label, Counts c) {
        out.append("%-40s %6d %7.1f%% %7.1f%% %7.1f%%%n".formatted(label, c.truePositives() + c.falseNegatives(), 100 * c.precision(),
                100 * c.recall(), 100 * c.f1()));
    }
}
