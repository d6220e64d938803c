package dev.keel.cli;

import dev.keel.config.GuardConfig;
import dev.keel.config.GuardPolicy;
import dev.keel.config.KeelConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.guard.Guard;
import dev.keel.http.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel guard scan FILE.jsonl}: the guard's verdict on every line of a JSONL file (see {@link GuardScan}). */
@Command(name = "scan", mixinStandardHelpOptions = true,
        description = {"Check every line of a JSONL file with the guard; prints one JSON line per input line, in input order.",
                "Blank lines are skipped; unreadable lines get \"verdict\":\"error\" and the scan goes on. Progress goes to stderr."})
final class GuardScanCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "FILE.jsonl", description = "The file to scan ('-' for standard input).")
    String file;

    @Option(names = "--field", defaultValue = "text", description = "The field holding the text (default: ${DEFAULT-VALUE}).")
    String field;

    @Option(names = "--profile", description = "strict or trusted (default: the tenant's profile, see guard.tenants).")
    String profile;

    @Option(names = "--direction", defaultValue = "input", description = "input (a caller's prompt) or output (a model's reply) (default: ${DEFAULT-VALUE}).")
    String direction;

    @Option(names = "--labels", paramLabel = "FIELD",
            description = "A field saying whether a line is an attack (true/1/attack/injection…) or benign (false/0/benign…): prints detection and false-positive rates.")
    String labels;

    @Option(names = "--json", description = "Print the --labels summary as a final JSON line on stdout instead of text on stderr.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        KeelConfig config = common.loadConfig();
        // The --tenant's policy (guard.tenants): its profile unless --profile names one, its PII actions and topics.
        GuardPolicy policy = config.guard().policyOf(common.tenant);
        GuardScan.Options options = new GuardScan.Options(field,
                profile == null ? policy.profile() : choice(GuardConfig.Profile.class, profile, "--profile"),
                choice(Guard.Direction.class, direction, "--direction"), labels);
        Path path = "-".equals(file) ? null : Path.of(file);
        if (path != null && !Files.isRegularFile(path)) throw new IllegalArgumentException(file + ": no such file");
        int threads = Runtime.getRuntime().availableProcessors();
        try (BgeSmallEmbedder embedder = new BgeSmallEmbedder(config.embed().threads());
             InputStream in = path == null ? System.in : Files.newInputStream(path)) {
            GuardScan.Summary s = new GuardScan(Guard.create(config.guard(), embedder).under(policy), options, threads)
                    .run(in, path == null ? -1 : Files.size(path), System.out, System.err);
            if (json && labels != null) {
                System.out.println(Json.write(Map.of("summary", s.view(true))));
            } else if (labels != null) {
                System.err.println(summary(s));
            }
            System.out.flush();
            return 0;
        }
    }

    /** The --labels summary as text. */
    static String summary(GuardScan.Summary s) {
        return String.format(Locale.ROOT, "%,d lines (%,d errors, %,d unlabelled) · detection rate %s (%,d of %,d attacks blocked) · "
                        + "false-positive rate %s (%,d of %,d benign lines blocked)", s.lines(), s.errors(), s.unlabelled(), percent(s.detectionRate()),
                s.detected(), s.attacks(), percent(s.falsePositiveRate()), s.falsePositives(), s.benign());
    }

    private static String percent(Double rate) {
        return rate == null ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * rate);
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String value, String option) {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(value)) return e;
        throw new IllegalArgumentException(option + " must be one of " + java.util.Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList() + ", got '" + value + "'");
    }
}
