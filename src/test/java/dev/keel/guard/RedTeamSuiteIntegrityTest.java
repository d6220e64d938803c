package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.keel.config.GuardConfig;
import dev.keel.guard.RedTeamSuite.Attack;
import dev.keel.guard.RedTeamSuite.Benign;
import dev.keel.guard.RedTeamSuite.Entity;
import dev.keel.guard.RedTeamSuite.PiiCase;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The red-team suite itself: its size and coverage, its labels, and exact spans that hold what their type says. */
class RedTeamSuiteIntegrityTest {
    /** The detector's training data (see the issue); the suite must not contain any of its rows. */
    private static final Path TRAINING_DATA = Path.of("..", "shared", "data", "guard").toAbsolutePath().normalize();
    private static final List<String> TECHNIQUES = List.of("direct_override", "role_play", "system_prompt_extraction", "tool_abuse",
            "payload_splitting", "indirect_document", "multilingual", "base64", "hex", "rot13", "url_encoding", "html_entities",
            "nested_encoding", "homoglyphs", "zero_width", "bidi", "leetspeak", "spaced_letters");
    private static final List<String> PERSONAS = List.of("curious", "malicious", "naive");
    private static final List<String> STRUCTURED = List.of("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS");
    private static final List<String> PHONE_REGIONS = List.of("US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "ES", "IT", "NL", "ZZ");
    private static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9._%+-]+@([a-z0-9-]+\\.)*example\\.(com|org|net|co\\.uk|de)");
    private static final Pattern SSN = Pattern.compile("(\\d{3})[- ]?(\\d{2})[- ]?(\\d{4})");
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern HEX_GROUP = Pattern.compile("[0-9a-fA-F]{1,4}");
    private static final Pattern CARD_LIKE = Pattern.compile("\\d{4}([ -]?\\d{4}){3}");
    private static final Pattern IBAN_LIKE = Pattern.compile("[A-Z]{2}\\d{2}( ?[A-Z0-9]{4}){3,7}( ?[A-Z0-9]{1,3})?");
    private static final Pattern BASE64_RUN = Pattern.compile("[A-Za-z0-9+/]{16,}={0,2}");
    private static final Pattern HEX_RUN = Pattern.compile("[0-9a-f]{2}( ?[0-9a-f]{2}){7,}");
    private static final Pattern SSN_LIKE = Pattern.compile("\\b\\d{3}-\\d{2}-\\d{4}\\b");

    private final List<Attack> attacks = RedTeamSuite.attacks();
    private final List<Benign> benign = RedTeamSuite.benign();
    private final List<PiiCase> pii = RedTeamSuite.pii();

    @Test
    void theCommittedFilesAreExactlyWhatTheGeneratorWrites() throws IOException {
        for (Map.Entry<String, String> file : RedTeamSuiteGenerator.generate().entrySet()) {
            assertThat(Files.readString(RedTeamSuite.DIR.resolve(file.getKey()), StandardCharsets.UTF_8))
                    .as(file.getKey() + " (run RedTeamSuiteGenerator.main after changing a seed)").isEqualTo(file.getValue());
        }
    }

    @Test
    void theSuitesReadmeStatesTheCurrentTotals() throws IOException {
        String readme = Files.readString(RedTeamSuite.DIR.resolve("README.md"), StandardCharsets.UTF_8);
        assertThat(readme).contains("`attacks.jsonl` — " + attacks.size() + " ", "`benign.jsonl` — " + benign.size() + " ",
                "`pii.jsonl` — " + pii.size() + " ");
    }

    @Test
    void everyIdIsUniqueAcrossTheSuite() {
        List<String> ids = Stream.of(attacks.stream().map(Attack::id), benign.stream().map(Benign::id), pii.stream().map(PiiCase::id))
                .flatMap(s -> s).toList();
        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.matches("[a-z]+(-[a-z0-9_]+)+-\\d{3}"));
    }

    @Test
    void attacksAreLabelledOneAndCoverEveryTechniqueAndPersona() {
        assertThat(attacks).hasSizeGreaterThanOrEqualTo(300).allMatch(a -> a.label() == 1 && !a.text().isBlank());
        Map<String, Long> byTechnique = count(attacks.stream().map(Attack::technique));
        assertThat(byTechnique.keySet()).containsExactlyInAnyOrderElementsOf(TECHNIQUES);
        assertThat(byTechnique.values()).allMatch(n -> n >= 10);
        Map<String, Long> byPersona = count(attacks.stream().map(Attack::persona));
        assertThat(byPersona.keySet()).containsExactlyInAnyOrderElementsOf(PERSONAS);
        assertThat(byPersona.values()).allMatch(n -> n >= 40);
    }

    @Test
    void everyReversiblyEncodedAttackDecodesToItsSeed() {
        Map<String, String> seeds = attacks.stream().collect(Collectors.toMap(Attack::id, Attack::text));
        int checked = 0;
        for (Attack a : attacks) {
            String seedId = "atk-" + a.id().substring(("atk-" + a.technique() + "-").length());
            if (!seeds.containsKey(seedId) || seedId.equals(a.id())) continue;
            String seed = seeds.get(seedId);
            String decoded = switch (a.technique()) {
                case "base64" -> decodeRuns(a.text(), BASE64_RUN, t -> new String(Base64.getDecoder().decode(t), StandardCharsets.UTF_8));
                case "hex" -> decodeRuns(a.text(), HEX_RUN, t -> new String(HexFormat.of().parseHex(t.replace(" ", "")), StandardCharsets.UTF_8));
                case "rot13" -> RedTeamSuiteGenerator.rot13(a.text());
                case "url_encoding" -> URLDecoder.decode(a.text(), StandardCharsets.UTF_8);
                case "html_entities" -> unescapeHtml(a.text());
                case "homoglyphs" -> foldLookAlikes(Normalizer.normalize(a.text(), Normalizer.Form.NFKC));
                case "zero_width", "bidi" -> a.text().replaceAll("[" + RedTeamSuiteGenerator.ZERO_WIDTH + RedTeamSuiteGenerator.BIDI + "]", "");
                default -> null;
            };
            if (decoded == null) continue;
            assertThat(decoded).as(a.id()).contains(seed);
            checked++;
        }
        assertThat(checked).isEqualTo(12 * 8);
    }

    @Test
    void multilingualAttacksSpeakAtLeastEightLanguagesOtherThanEnglish() {
        Set<String> langs = attacks.stream().filter(a -> a.technique().equals("multilingual")).map(Attack::lang).collect(Collectors.toSet());
        assertThat(langs).doesNotContain("en").hasSizeGreaterThanOrEqualTo(8);
    }

    @Test
    void attacksVaryFromOneLineToSeveralParagraphs() {
        assertThat(attacks).anyMatch(a -> a.text().length() < 60);
        assertThat(attacks.stream().filter(a -> a.text().split("\n").length >= 5).count()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void benignPromptsAreLabelledZeroAndManyCarryTriggerWords() {
        assertThat(benign).hasSizeGreaterThanOrEqualTo(300).allMatch(b -> b.label() == 0 && !b.text().isBlank());
        Map<String, Long> byKind = count(benign.stream().map(Benign::kind));
        assertThat(byKind.keySet()).contains("general", "support", "coding", "security_coding", "encoded_legit", "multilingual",
                "trigger_words", "security_docs", "document");
        assertThat(byKind.get("trigger_words")).isGreaterThanOrEqualTo(60);
        assertThat(byKind.get("encoded_legit")).isGreaterThanOrEqualTo(20);
    }

    @Test
    void noPromptIsBothAnAttackAndBenign() {
        Set<String> attackTexts = attacks.stream().map(a -> normalise(a.text())).collect(Collectors.toSet());
        assertThat(benign).noneMatch(b -> attackTexts.contains(normalise(b.text())));
        assertThat(attackTexts).hasSize(attacks.size());
    }

    @Test
    void noSuiteTextEqualsARowOfTheTrainingData() throws IOException {
        assumeTrue(Files.isDirectory(TRAINING_DATA), "the training data is not next to the checkout: " + TRAINING_DATA);
        Set<String> training = new HashSet<>();
        try (Stream<Path> files = Files.walk(TRAINING_DATA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
                RedTeamSuite.lines(f).forEach(n -> training.add(normalise(n.path("text").asText())));
            }
        }
        assertThat(training).hasSizeGreaterThan(1000);
        List<String> suite = new ArrayList<>();
        attacks.forEach(a -> suite.add(a.id() + "\t" + a.text()));
        benign.forEach(b -> suite.add(b.id() + "\t" + b.text()));
        pii.forEach(p -> suite.add(p.id() + "\t" + p.text()));
        assertThat(suite).noneMatch(row -> training.contains(normalise(row.substring(row.indexOf('\t') + 1))));
    }

    @Test
    void piiSpansLieInsideTheTextSortedAndNotOverlapping() {
        assertThat(pii).hasSizeGreaterThanOrEqualTo(350);
        for (PiiCase c : pii) {
            int previousEnd = 0;
            for (Entity e : c.entities()) {
                assertThat(GuardConfig.PII_TYPES).as(c.id()).contains(e.type());
                assertThat(e.start()).as(c.id()).isGreaterThanOrEqualTo(previousEnd);
                assertThat(e.end()).as(c.id()).isGreaterThan(e.start()).isLessThanOrEqualTo(c.text().length());
                previousEnd = e.end();
            }
        }
    }

    @Test
    void everySpanHoldsAValueOfItsType() {
        for (PiiCase c : pii) {
            for (Entity e : c.entities()) {
                String value = c.text().substring(e.start(), e.end());
                assertThat(value).as(c.id()).isEqualTo(value.strip());
                assertThat(holds(e.type(), value)).as(c.id() + " " + e.type() + " " + value).isTrue();
                assertThat(touchesAWordCharacter(c.text(), e)).as(c.id() + ": the span cuts a word").isFalse();
            }
        }
    }

    @Test
    void everyTypeHasEnoughCasesAndHardNegativesHaveNoEntities() {
        Map<String, Long> byType = count(pii.stream().flatMap(c -> c.entities().stream()).map(Entity::type));
        for (String type : STRUCTURED) assertThat(byType.get(type)).as(type).isGreaterThanOrEqualTo(30);
        assertThat(byType.get("SECRET")).isGreaterThanOrEqualTo(30);
        List<PiiCase> negatives = pii.stream().filter(c -> c.id().startsWith("pii-neg-")).toList();
        assertThat(negatives).hasSizeGreaterThanOrEqualTo(50).allMatch(c -> c.entities().isEmpty());
        assertThat(pii.stream().filter(c -> c.entities().size() >= 2).count()).isGreaterThanOrEqualTo(20);
    }

    @Test
    void hardNegativesThatLookLikeNumbersFailTheirChecksums() {
        int checked = 0;
        for (PiiCase c : pii.stream().filter(p -> p.id().startsWith("pii-neg-")).toList()) {
            for (Matcher m = CARD_LIKE.matcher(c.text()); m.find(); checked++) {
                assertThat(RedTeamPiiCases.luhnValid(m.group())).as(c.id() + " " + m.group()).isFalse();
            }
            for (Matcher m = IBAN_LIKE.matcher(c.text()); m.find(); checked++) {
                assertThat(RedTeamPiiCases.ibanValid(m.group())).as(c.id() + " " + m.group()).isFalse();
            }
            for (Matcher m = SSN_LIKE.matcher(c.text()); m.find(); checked++) {
                assertThat(validSsn(m.group())).as(c.id() + " " + m.group()).isFalse();
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(14);
    }

    @Test
    void phoneNumbersComeFromFifteenRegionsInNationalAndInternationalForm() {
        List<String> phones = pii.stream().flatMap(c -> c.entities().stream().filter(e -> e.type().equals("PHONE_NUMBER"))
                .map(e -> c.text().substring(e.start(), e.end()))).toList();
        assertThat(phones.stream().filter(p -> p.startsWith("+")).count()).isGreaterThanOrEqualTo(25);
        assertThat(phones.stream().filter(p -> !p.startsWith("+")).count()).isGreaterThanOrEqualTo(25);
        Set<String> regions = new HashSet<>();
        for (String p : phones) {
            PHONE_REGIONS.stream().map(r -> RedTeamPiiCases.regionOf(p, r)).filter(Objects::nonNull).findFirst().ifPresent(regions::add);
        }
        assertThat(regions).hasSizeGreaterThanOrEqualTo(15);
    }

    private static boolean holds(String type, String value) {
        return switch (type) {
            case "EMAIL_ADDRESS" -> EMAIL.matcher(value).matches();
            case "PHONE_NUMBER" -> PHONE_REGIONS.stream().anyMatch(r -> RedTeamPiiCases.validPhone(value, r));
            case "US_SSN" -> validSsn(value);
            case "CREDIT_CARD" -> value.matches("[\\d -]{14,23}") && RedTeamPiiCases.luhnValid(value);
            case "IBAN_CODE" -> RedTeamPiiCases.ibanValid(value);
            case "IP_ADDRESS" -> IPV4.matcher(value).matches() || validIpv6(value);
            case "SECRET" -> value.length() >= 12 && (value.startsWith("-----BEGIN ") || !value.matches(".*\\s.*"));
            default -> false;
        };
    }

    /** Area 001-899 except 666, group 01-99, serial 0001-9999: the numbers the SSA issues. */
    private static boolean validSsn(String value) {
        Matcher m = SSN.matcher(value);
        if (!m.matches()) return false;
        int area = Integer.parseInt(m.group(1)), group = Integer.parseInt(m.group(2)), serial = Integer.parseInt(m.group(3));
        return area > 0 && area != 666 && area < 900 && group > 0 && serial > 0;
    }

    private static boolean validIpv6(String value) {
        String[] halves = value.split("::", -1);
        if (halves.length > 2) return false;
        int groups = 0;
        for (String half : halves) {
            if (half.isEmpty()) continue;
            for (String g : half.split(":", -1)) {
                if (!HEX_GROUP.matcher(g).matches()) return false;
                groups++;
            }
        }
        return halves.length == 2 ? groups < 8 : groups == 8;
    }

    private static boolean touchesAWordCharacter(String text, Entity e) {
        boolean before = e.start() > 0 && Character.isLetterOrDigit(text.charAt(e.start() - 1));
        boolean after = e.end() < text.length() && Character.isLetterOrDigit(text.charAt(e.end()));
        return before || after;
    }

    /** {@code text} with each run of {@code run} replaced by its decoding, when it decodes. */
    private static String decodeRuns(String text, Pattern run, Function<String, String> decode) {
        StringBuilder out = new StringBuilder();
        Matcher m = run.matcher(text);
        while (m.find()) {
            String replacement;
            try {
                replacement = decode.apply(m.group().strip());
            } catch (IllegalArgumentException notEncoded) {
                replacement = m.group();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        return m.appendTail(out).toString();
    }

    private static String unescapeHtml(String text) {
        Matcher m = Pattern.compile("&#(x?)([0-9a-fA-F]+);|&(amp|lt|gt|quot);").matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String c = m.group(3) != null ? Map.of("amp", "&", "lt", "<", "gt", ">", "quot", "\"").get(m.group(3))
                    : Character.toString(Integer.parseInt(m.group(2), m.group(1).isEmpty() ? 10 : 16));
            m.appendReplacement(out, Matcher.quoteReplacement(c));
        }
        return m.appendTail(out).toString();
    }

    private static String foldLookAlikes(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            int i = RedTeamSuiteGenerator.LOOK_ALIKES.indexOf(c);
            out.append(i >= 0 ? RedTeamSuiteGenerator.LATIN.charAt(i) : c);
        }
        return out.toString();
    }

    private static Map<String, Long> count(Stream<String> values) {
        return values.collect(Collectors.groupingBy(v -> v, TreeMap::new, Collectors.counting()));
    }

    /** Case and whitespace folded, as the training data's own dedup did. */
    static String normalise(String text) {
        return text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }
}
