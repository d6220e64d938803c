package dev.keel.guard;

import dev.keel.config.GuardConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guard with tiny stand-in detectors, for the pipeline's tests: they give the verdicts the real
 * detectors surely give on the tests' texts (a plain instruction override is an injection, an email
 * address is EMAIL_ADDRESS, an AWS access key id is a SECRET), and nothing else, so a pipeline test
 * fails only for the pipeline.
 */
public final class StandInGuard {
    private static final Map<String, Pattern> PII = Map.of(
            "EMAIL_ADDRESS", Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}"),
            "US_SSN", Pattern.compile("\\b\\d{3}-\\d{2}-\\d{4}\\b"),
            "SECRET", Pattern.compile("\\bAKIA[0-9A-Z]{16}\\b"));

    private StandInGuard() {}

    public static Guard of(GuardConfig config) {
        return new Guard(config, StandInGuard::injection, StandInGuard::pii);
    }

    private static InjectionDetector.Assessment injection(String text) {
        if (!text.toLowerCase(Locale.ROOT).contains("ignore all previous instructions")) return InjectionDetector.Assessment.NONE;
        return new InjectionDetector.Assessment(1, List.of(new GuardSignal("pattern", "instruction_override", 1)));
    }

    private static List<PiiEntity> pii(String text) {
        List<PiiEntity> found = new ArrayList<>();
        PII.forEach((type, pattern) -> {
            Matcher m = pattern.matcher(text);
            while (m.find()) found.add(new PiiEntity(type, m.start(), m.end()));
        });
        found.sort(Comparator.comparingInt(PiiEntity::start));
        return found;
    }
}
