package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import dev.keel.guard.RedTeamRun.Outcome;
import dev.keel.guard.RedTeamSuite.Attack;
import dev.keel.guard.RedTeamSuite.Benign;
import dev.keel.guard.RedTeamSuite.PiiCase;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The suite's measurement itself, checked with guards whose detectors know the answers or get them wrong on purpose. */
class RedTeamRunTest {
    private final List<Attack> attacks = RedTeamSuite.attacks();
    private final List<Benign> benign = RedTeamSuite.benign();
    private final List<PiiCase> pii = RedTeamSuite.pii();
    private final Map<String, List<PiiEntity>> truth = truth();

    @Test
    void detectorsThatKnowTheAnswersScoreFullMarks() {
        Set<String> attackTexts = attacks.stream().map(Attack::text).collect(Collectors.toSet());
        InjectionDetector oracle = text -> attackTexts.contains(text)
                ? new InjectionDetector.Assessment(1, List.of(new GuardSignal("oracle", "instruction_override", 1)))
                : InjectionDetector.Assessment.NONE;
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, oracle, this::knownEntities), attacks, benign, pii);

        assertThat(run.detection(Outcome::strict)).isEqualTo(1.0);
        assertThat(run.detection(Outcome::trusted)).isEqualTo(1.0);
        assertThat(run.falsePositives(Outcome::strict)).isZero();
        assertThat(run.structured().recall()).isEqualTo(1.0);
        assertThat(run.structured().precision()).isEqualTo(1.0);
        assertThat(run.pii.get("SECRET").f1()).isEqualTo(1.0);
        assertThat(run.violations).isEmpty();
    }

    @Test
    void aKeywordListCannotMeetTheTargets() {
        List<String> keywords = List.of("ignore", "disregard", "forget", "previous instructions", "system prompt", "instructions", "pretend",
                "act as", "you are now", "override", "bypass", "jailbreak", "no restrictions", "reveal", "developer mode");
        InjectionDetector keywordList = text -> keywords.stream().anyMatch(k -> text.toLowerCase(Locale.ROOT).contains(k))
                ? new InjectionDetector.Assessment(1, List.of()) : InjectionDetector.Assessment.NONE;
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, keywordList, text -> List.of()), attacks, benign, List.of());

        System.out.printf("keyword-list baseline on the red-team suite: %.1f%% of attacks, %.1f%% of benign prompts%n",
                100 * run.detection(Outcome::strict), 100 * run.falsePositives(Outcome::strict));
        assertThat(run.detection(Outcome::strict)).isLessThan(0.95);
        assertThat(run.falsePositives(Outcome::strict)).isGreaterThan(0.10);
    }

    @Test
    void aScoreBetweenTheThresholdsIsBlockedOnlyUnderStrict() {
        double between = (GuardConfig.DEFAULTS.input().strictThreshold() + GuardConfig.DEFAULTS.input().trustedThreshold()) / 2;
        InjectionDetector middling = text -> new InjectionDetector.Assessment(between, List.of());
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, middling, text -> List.of()), attacks.subList(0, 5),
                benign.subList(0, 5), List.of());

        assertThat(run.detection(Outcome::strict)).isEqualTo(1.0);
        assertThat(run.detection(Outcome::trusted)).isZero();
        assertThat(run.falsePositives(Outcome::strict)).isEqualTo(1.0);
    }

    @Test
    void aSpanOneCharacterShortIsBothAMissAndAFalseAlarm() {
        PiiDetector sloppy = text -> knownEntities(text).stream().map(e -> new PiiEntity(e.type(), e.start(), e.end() - 1)).toList();
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE, sloppy), List.of(),
                List.of(), pii);

        assertThat(run.structured().recall()).isZero();
        assertThat(run.structured().precision()).isZero();
        assertThat(run.violations).isEmpty();
    }

    @Test
    void aRedactionIsNotCountedAsAnInjectionDetection() {
        PiiDetector everything = text -> text.isEmpty() ? List.of() : List.of(new PiiEntity("EMAIL_ADDRESS", 0, 1));
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE, everything), attacks,
                List.of(), List.of());

        assertThat(run.detection(Outcome::strict)).isZero();
    }

    @Test
    void aSpanPastTheEndOfTheTextIsReportedAsABrokenPromise() {
        // IP addresses are allowed by default, so the guard itself never cuts the text at the bad span.
        PiiDetector overreaching = text -> List.of(new PiiEntity("IP_ADDRESS", 0, text.length() + 3));
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE, overreaching), List.of(),
                List.of(), pii.subList(0, 3));

        assertThat(run.violations).hasSize(3).allMatch(v -> v.contains(": span 0.."));
    }

    @Test
    void theReportNamesEveryTechniqueKindAndEntityType() {
        RedTeamRun run = new RedTeamRun(new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE, text -> List.of()),
                attacks, benign, pii);

        String report = run.report();
        attacks.forEach(a -> assertThat(report).contains("technique " + a.technique(), "persona " + a.persona()));
        benign.forEach(b -> assertThat(report).contains("kind " + b.kind()));
        GuardConfig.PII_TYPES.forEach(t -> assertThat(report).contains("  " + t));
    }

    private List<PiiEntity> knownEntities(String text) {
        return truth.getOrDefault(text, List.of());
    }

    private Map<String, List<PiiEntity>> truth() {
        Map<String, List<PiiEntity>> m = new HashMap<>();
        for (PiiCase c : pii) m.put(c.text(), c.entities().stream().map(e -> new PiiEntity(e.type(), e.start(), e.end())).toList());
        return m;
    }
}
