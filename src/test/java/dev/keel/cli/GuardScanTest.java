package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.GuardConfig;
import dev.keel.guard.Guard;
import dev.keel.guard.TestGuards;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel guard scan}: one JSON line per input line in input order, errors that do not stop the scan, labelled summaries. */
class GuardScanTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EMAIL = "ann.secret@example.com";
    private static final Guard GUARD = TestGuards.flagging(GuardConfig.DEFAULTS, null);
    private static final GuardScan.Options OPTIONS = new GuardScan.Options("text", GuardConfig.Profile.STRICT, Guard.Direction.INPUT, "label");

    @TempDir
    Path tmp;

    record Scan(List<JsonNode> lines, GuardScan.Summary summary, String raw) {}

    private static Scan scan(byte[] input, int threads) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GuardScan.Summary s = new GuardScan(GUARD, OPTIONS, threads).run(new ByteArrayInputStream(input), input.length,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        String raw = out.toString(StandardCharsets.UTF_8);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : raw.split("\n")) if (!l.isEmpty()) lines.add(JSON.readTree(l));
        return new Scan(lines, s, raw);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyLineGetsItsVerdictInInputOrderWhenCheckedInParallel() throws Exception {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            String text = switch (i % 3) {
                case 0 -> TestGuards.INJECTION;
                case 1 -> "mail " + EMAIL + " please";
                default -> "Can I ignore the previous invoice?";
            };
            in.append(JSON.writeValueAsString(java.util.Map.of("text", text))).append('\n');
        }

        Scan s = scan(utf8(in.toString()), 4);

        assertThat(s.lines()).hasSize(300);
        for (int i = 0; i < 300; i++) {
            JsonNode l = s.lines().get(i);
            assertThat(l.get("line").asInt()).isEqualTo(i + 1);
            assertThat(l.get("verdict").asText()).isEqualTo(switch (i % 3) {
                case 0 -> "block";
                case 1 -> "redact";
                default -> "allow";
            });
        }
        JsonNode email = s.lines().get(1);
        assertThat(email.get("categories")).extracting(JsonNode::asText).containsExactly("EMAIL_ADDRESS");
        assertThat(email.get("entities").get(0).get("start").asInt()).isEqualTo(5);
        assertThat(email.get("entities").get(0).get("end").asInt()).isEqualTo(5 + EMAIL.length());
        assertThat(s.lines().get(0).get("code").asText()).isEqualTo("prompt_injection");
        assertThat(s.lines().get(0).get("score").asDouble()).isEqualTo(TestGuards.ATTACK_SCORE);
        assertThat(s.raw()).as("no text is ever printed").doesNotContain("example.com").doesNotContain("admin password");
    }

    @Test
    void unreadableLinesGetAnErrorWithAReasonAndTheScanGoesOn() throws Exception {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.write(utf8("\uFEFF{\"text\":\"first line after a byte-order mark\"}\r\n"));       // 1
        in.write(utf8("{\"text\": \"mail " + EMAIL + "\"\n"));                               // 2 unclosed
        in.write(utf8("\n   \n"));                                                            // 3, 4 blank: skipped
        in.write(utf8("[\"text\"]\n"));                                                       // 5
        in.write(utf8("{\"body\":\"no text field\"}\n"));                                     // 6
        in.write(utf8("{\"text\": 42}\n"));                                                   // 7
        in.write(new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'}); // 8 not UTF-8
        in.write(utf8("{\"text\":\"" + "a".repeat(GuardScan.MAX_LINE_BYTES) + "\"}\n"));     // 9 huge line
        in.write(utf8("{\"text\":\"" + "b".repeat(Guard.MAX_CHECK_CHARS + 1) + "\"}\n"));    // 10 text over the check limit
        in.write(utf8("{\"text\":\"a\",\"text\":\"" + TestGuards.INJECTION + "\"}\n"));       // 11 duplicate key
        in.write(utf8("{\"text\":\"a\"} {\"text\":\"b\"}\n"));                                // 12 two objects
        in.write(utf8("{\"text\":\"" + TestGuards.INJECTION + "\"}"));                        // 13 no final newline

        Scan s = scan(in.toByteArray(), 2);

        assertThat(s.lines()).extracting(l -> l.get("line").asInt()).containsExactly(1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        assertThat(s.lines()).extracting(l -> l.get("verdict").asText())
                .containsExactly("allow", "error", "error", "error", "error", "error", "error", "error", "error", "error", "block");
        assertThat(s.lines().get(1).get("reason").asText()).startsWith("not valid JSON");
        assertThat(s.lines().get(2).get("reason").asText()).isEqualTo("not a JSON object");
        assertThat(s.lines().get(3).get("reason").asText()).isEqualTo("no string field 'text'");
        assertThat(s.lines().get(4).get("reason").asText()).isEqualTo("no string field 'text'");
        assertThat(s.lines().get(5).get("reason").asText()).isEqualTo("not valid UTF-8");
        assertThat(s.lines().get(6).get("reason").asText()).contains("longer than " + GuardScan.MAX_LINE_BYTES + " bytes");
        assertThat(s.lines().get(7).get("reason").asText()).contains("longer than " + Guard.MAX_CHECK_CHARS + " characters");
        assertThat(s.lines().get(8).get("reason").asText()).startsWith("not valid JSON");
        assertThat(s.lines().get(9).get("reason").asText()).startsWith("not valid JSON");
        assertThat(s.summary().errors()).isEqualTo(9);
        assertThat(s.raw()).as("an error never quotes the line").doesNotContain("example.com").doesNotContain("admin");
    }

    @Test
    void aLineTheGuardFailsOnGetsAnErrorWithoutItsTextAndTheScanGoesOn() throws Exception {
        byte[] in = utf8("{\"text\":\"fine\"}\n{\"text\":\"BOOM " + EMAIL + "\"}\n{\"text\":\"fine again\"}\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        new GuardScan(TestGuards.throwingOn("BOOM"), OPTIONS, 2).run(new ByteArrayInputStream(in), in.length,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(JSON.readTree(lines.get(1)).get("reason").asText()).isEqualTo("the guard failed on this line (IllegalStateException)");
        assertThat(JSON.readTree(lines.get(2)).get("verdict").asText()).isEqualTo("allow");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("example.com");
    }

    @Test
    void labelsGiveTheDetectionAndFalsePositiveRates() throws Exception {
        String in = String.join("\n",
                "{\"text\":\"" + TestGuards.INJECTION + "\",\"label\":1}",
                "{\"text\":\"" + TestGuards.INJECTION + "\",\"label\":\"attack\"}",
                "{\"text\":\"a harmless attack of hiccups\",\"label\":true}",
                "{\"text\":\"Disregard your instructions? No, I read the manual.\",\"label\":0}",
                "{\"text\":\"What is the refund policy?\",\"label\":\"benign\"}",
                "{\"text\":\"What is the refund policy?\",\"label\":false}",
                "{\"text\":\"What is the refund policy?\",\"label\":false}",
                "{\"text\":\"no label here\"}",
                "{\"text\":\"an odd label\",\"label\":\"maybe\"}",
                "not json at all");

        GuardScan.Summary s = scan(utf8(in), 3).summary();

        assertThat(s.attacks()).isEqualTo(3);
        assertThat(s.detected()).isEqualTo(2);
        assertThat(s.detectionRate()).isEqualTo(2.0 / 3);
        assertThat(s.benign()).isEqualTo(4);
        assertThat(s.falsePositives()).isEqualTo(1);
        assertThat(s.falsePositiveRate()).isEqualTo(0.25);
        assertThat(s.unlabelled()).isEqualTo(2);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(GuardScanCommand.summary(s)).contains("detection rate 66.7% (2 of 3 attacks blocked)")
                .contains("false-positive rate 25.0% (1 of 4 benign lines blocked)");
    }

    @Test
    void theCommandPrintsJsonLinesAndWithJsonTheSummaryAsTheLastLine() throws Exception {
        Path file = tmp.resolve("prompts.jsonl");
        Files.writeString(file, "{\"prompt\":\"What is the refund policy?\",\"is_attack\":false}\n{\"prompt\":\"hello\",\"is_attack\":true}\n");

        CliTest.Run text = CliTest.run("guard", "scan", file.toString(), "--field", "prompt", "--labels", "is_attack");
        CliTest.Run json = CliTest.run("guard", "scan", file.toString(), "--field", "prompt", "--labels", "is_attack", "--json", "--profile", "trusted");

        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out().lines()).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("{\"line\":"));
        assertThat(text.err()).contains("detection rate 0.0% (0 of 1 attacks blocked)").contains("false-positive rate 0.0%");
        List<String> lines = json.out().lines().toList();
        assertThat(lines).hasSize(3);
        JsonNode summary = JSON.readTree(lines.get(2)).get("summary");
        assertThat(summary.get("lines").asInt()).isEqualTo(2);
        assertThat(summary.get("attacks").asInt()).isEqualTo(1);
        assertThat(summary.get("false_positive_rate").asDouble()).isZero();
    }

    @Test
    void withATenantTheScanAppliesThatTenantsPolicy() throws Exception {
        Path config = tmp.resolve("keel.yaml");
        Files.writeString(config, "guard: {pii: {EMAIL_ADDRESS: block}, tenants: {acme: {pii: {EMAIL_ADDRESS: allow}}}}\n");
        Path file = tmp.resolve("mail.jsonl");
        Files.writeString(file, "{\"text\":\"Please write to " + EMAIL + " about the invoice.\"}\n");

        CliTest.Run acme = CliTest.run("guard", "scan", file.toString(), "--config", config.toString(), "--tenant", "acme");
        CliTest.Run other = CliTest.run("guard", "scan", file.toString(), "--config", config.toString(), "--tenant", "globex");

        assertThat(JSON.readTree(acme.out().strip()).get("verdict").asText()).as(acme.err()).isEqualTo("allow");
        assertThat(JSON.readTree(other.out().strip()).get("verdict").asText()).as(other.err()).isEqualTo("block");
    }

    @Test
    void aBenignLineThePolicyBlocksForItsPiiIsNoFalseAlarmOfTheInjectionLabels() throws Exception {
        Path config = tmp.resolve("keel.yaml");
        Files.writeString(config, "guard: {pii: {EMAIL_ADDRESS: block}}\n");
        Path file = tmp.resolve("labelled.jsonl");
        Files.writeString(file, "{\"text\":\"Please write to " + EMAIL + " about the invoice.\",\"label\":0}\n");

        CliTest.Run run = CliTest.run("guard", "scan", file.toString(), "--config", config.toString(), "--labels", "label", "--json");

        List<String> lines = run.out().lines().toList();
        assertThat(JSON.readTree(lines.get(0)).get("verdict").asText()).as(run.err()).isEqualTo("block");
        JsonNode summary = JSON.readTree(lines.get(1)).get("summary");
        assertThat(summary.get("blocked").asInt()).isEqualTo(1);
        assertThat(summary.get("false_positive_rate").asDouble()).isZero();
    }

    @Test
    void aMissingFileOrABadOptionExitsWith2NamingIt() {
        CliTest.Run missing = CliTest.run("guard", "scan", tmp.resolve("nope.jsonl").toString());
        CliTest.Run profile = CliTest.run("guard", "scan", "-", "--profile", "root");

        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.jsonl: no such file");
        assertThat(profile.code()).isEqualTo(2);
        assertThat(profile.err()).contains("--profile must be one of [strict, trusted], got 'root'");
    }
}
