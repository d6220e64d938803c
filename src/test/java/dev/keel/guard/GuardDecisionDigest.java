package dev.keel.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.GuardConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The input guard's decisions on a corpus, one line per text, written so that two builds can be compared with
 * {@code diff}: the exact bits of the injection score (cheap layers: patterns, n-gram classifier, decoded
 * layers), every signal with its exact score, and every PII span. Speed work on the guard must leave this output
 * unchanged. Test code; run it against the build before and after a change:
 * <pre>java -cp target/test-classes:target/classes:target/lib/* dev.keel.guard.GuardDecisionDigest OUT.txt DIR_OR_JSONL…</pre>
 * It prints the number of texts written.
 */
public final class GuardDecisionDigest {
    private GuardDecisionDigest() {}

    public static void main(String[] args) throws IOException {
        Guard guard = Guard.create(GuardConfig.DEFAULTS, null);
        List<String> texts = new ArrayList<>();
        for (int i = 1; i < args.length; i++) texts.addAll(texts(Path.of(args[i])));
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[0]), StandardCharsets.UTF_8))) {
            for (String text : texts) out.println(line(guard, text));
        }
        System.out.println(texts.size() + " texts digested into " + args[0]);
    }

    /** One text's decision: length, text hash, score bits, signals and PII spans. Holds no text. */
    static String line(Guard guard, String text) {
        GuardResult r = guard.check(text, Guard.Direction.INPUT, GuardConfig.Profile.STRICT, new Redaction());
        StringBuilder out = new StringBuilder().append(text.length()).append(' ').append(Integer.toHexString(text.hashCode()))
                .append(" score=").append(Long.toHexString(Double.doubleToRawLongBits(r.score())));
        for (GuardSignal s : r.signals()) {
            out.append(' ').append(s.layer()).append(':').append(s.category()).append('=').append(Long.toHexString(Double.doubleToRawLongBits(s.score())));
        }
        for (PiiEntity e : r.entities()) out.append(' ').append(e.type()).append('[').append(e.start()).append(',').append(e.end()).append(')');
        return out.toString();
    }

    /** The {@code text} field of every line of a JSONL file, or of every JSONL file under a folder (sorted by path). */
    static List<String> texts(Path path) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.isDirectory(path) ? Files.walk(path) : Stream.of(path)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String row : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (row.isBlank()) continue;
                    JsonNode text = json.readTree(row).path("text");
                    if (text.isTextual()) out.add(text.asText());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
