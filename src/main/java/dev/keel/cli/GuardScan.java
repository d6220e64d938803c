package dev.keel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GuardConfig;
import dev.keel.guard.Guard;
import dev.keel.guard.GuardResult;
import dev.keel.guard.GuardVerdict;
import dev.keel.guard.Redaction;
import dev.keel.http.ApiViews;
import dev.keel.http.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Scans a JSONL file with the guard: one JSON line out per non-blank line in, in input order
 * ({@code line}, {@code verdict}, {@code categories}, {@code score}, {@code entities}, {@code code}
 * for blocks), checked in parallel. A line that is not UTF-8, not a JSON object, without the text
 * field, or too long gets {@code "verdict":"error"} with a {@code reason}, and the scan goes on.
 * Never prints a line's text. With a labels field it counts detections (attacks blocked) and false
 * positives (benign lines blocked); on input, only injection blocks count, not a policy's PII or topic blocks. Not thread-safe: one scan at a time.
 */
final class GuardScan {
    /** Longest line read: a text within the check limit is at most 3 bytes a code unit, plus its JSON; longer lines are skipped unread. */
    static final int MAX_LINE_BYTES = 3 * Guard.MAX_CHECK_CHARS + 64 * 1024;
    /** Lines checked ahead of the one being written, per thread: keeps every core busy while memory stays bounded. */
    private static final int WINDOW_PER_THREAD = 8;
    /** Seconds between progress lines on stderr. */
    private static final long PROGRESS_NANOS = 2_000_000_000L;
    private static final Set<String> POSITIVE = Set.of("true", "1", "yes", "attack", "injection", "jailbreak", "malicious", "unsafe");
    /** Two objects on a line, or one key twice, would leave which text was meant to a parser's whim: such lines are errors. */
    private static final ObjectReader STRICT = Json.MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> NEGATIVE = Set.of("false", "0", "no", "benign", "safe", "legitimate");

    /** What to scan and how: the text field, the profile and direction of every check, and the labels field (null: none). */
    record Options(String field, GuardConfig.Profile profile, Guard.Direction direction, String labels) {}

    /** The counts of a scan; detection and false-positive rates are null without labelled lines of their kind. */
    record Summary(long lines, long errors, long blocked, long attacks, long detected, long benign, long falsePositives, long unlabelled) {
        Double detectionRate() {
            return attacks == 0 ? null : (double) detected / attacks;
        }

        Double falsePositiveRate() {
            return benign == 0 ? null : (double) falsePositives / benign;
        }

        Map<String, Object> view(boolean labelled) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lines", lines);
            m.put("errors", errors);
            m.put("blocked", blocked);
            if (labelled) {
                m.put("attacks", attacks);
                m.put("detected", detected);
                m.put("detection_rate", detectionRate());
                m.put("benign", benign);
                m.put("false_positives", falsePositives);
                m.put("false_positive_rate", falsePositiveRate());
                m.put("unlabelled", unlabelled);
            }
            return m;
        }
    }

    /** One line's outcome: its JSON, whether the guard blocked it, and its label (null: none or unreadable). */
    private record Scanned(Map<String, Object> view, boolean error, boolean blocked, boolean flagged, Boolean label) {}

    /** The code of an input block for an injection, the only block that input labels count. */
    private static final String INJECTION_CODE = "prompt_injection";

    private final Guard guard;
    private final Options options;
    private final int threads;

    GuardScan(Guard guard, Options options, int threads) {
        this.guard = guard;
        this.options = options;
        this.threads = threads;
    }

    /** Scans {@code in} ({@code totalBytes} long, or -1 when unknown) to {@code out}, progress to {@code progress}. */
    Summary run(InputStream in, long totalBytes, PrintStream out, PrintStream progress) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("keel-scan-", 0).daemon(true).factory());
        ArrayDeque<Future<Scanned>> window = new ArrayDeque<>();
        Counts counts = new Counts();
        LineReader reader = new LineReader(in);
        long start = System.nanoTime(), lastProgress = start;
        try {
            for (LineReader.Line line = reader.next(); line != null; line = reader.next()) {
                if (line.blank()) continue;
                LineReader.Line l = line;
                window.add(pool.submit(() -> scan(l)));
                if (window.size() >= threads * WINDOW_PER_THREAD) counts.write(take(window), out);
                long now = System.nanoTime();
                if (now - lastProgress >= PROGRESS_NANOS) {
                    lastProgress = now;
                    progress.println(progressLine(counts.lines + window.size(), reader.bytesRead(), totalBytes, (now - start) / 1e9));
                }
            }
            while (!window.isEmpty()) counts.write(take(window), out);
        } finally {
            pool.shutdownNow();
        }
        out.flush();
        return counts.summary();
    }

    private static String progressLine(long lines, long read, long total, double seconds) {
        String pct = total > 0 ? String.format(Locale.ROOT, "%3d%% · ", Math.min(100, 100 * read / total)) : "";
        return String.format(Locale.ROOT, "%s%,d lines · %.0f lines/s", pct, lines, seconds > 0 ? lines / seconds : 0);
    }

    private static Scanned take(ArrayDeque<Future<Scanned>> window) {
        try {
            return window.remove().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("scan interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("scan failed: " + e.getCause(), e.getCause());
        }
    }

    private Scanned scan(LineReader.Line line) {
        if (line.tooLong()) return error(line.number(), "line is longer than " + MAX_LINE_BYTES + " bytes");
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line.bytes())).toString();
        } catch (CharacterCodingException e) {
            return error(line.number(), "not valid UTF-8");
        }
        JsonNode node;
        try {
            node = STRICT.readTree(json);
        } catch (JsonProcessingException e) {
            return error(line.number(), "not valid JSON" + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()));
        }
        if (!(node instanceof ObjectNode o)) return error(line.number(), "not a JSON object");
        JsonNode text = o.get(options.field());
        if (text == null || !text.isTextual()) return error(line.number(), "no string field '" + options.field() + "'");
        if (text.asText().length() > Guard.MAX_CHECK_CHARS) {
            return error(line.number(), "text is longer than " + Guard.MAX_CHECK_CHARS + " characters");
        }
        GuardResult r;
        try {
            r = guard.check(text.asText(), options.direction(), options.profile(), new Redaction());
        } catch (RuntimeException e) {
            return error(line.number(), "the guard failed on this line (" + e.getClass().getSimpleName() + ")"); // its message may quote the text
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("line", line.number());
        view.putAll(ApiViews.guard(r));
        boolean blocked = r.verdict() instanceof GuardVerdict.Block;
        // Input labels are about attacks: a PII or topic block of a benign line is the policy's doing, no false alarm.
        boolean flagged = r.verdict() instanceof GuardVerdict.Block b && (options.direction() == Guard.Direction.OUTPUT || b.code().equals(INJECTION_CODE));
        return new Scanned(view, false, blocked, flagged, options.labels() == null ? null : label(o.get(options.labels())));
    }

    /** A label value as attack (true) or benign (false); null when it is neither. */
    static Boolean label(JsonNode v) {
        if (v == null || v.isNull() || v.isContainerNode()) return null;
        String s = v.asText().strip().toLowerCase(Locale.ROOT);
        if (POSITIVE.contains(s)) return true;
        if (NEGATIVE.contains(s)) return false;
        return null;
    }

    private static Scanned error(long line, String reason) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("line", line);
        view.put("verdict", "error");
        view.put("reason", reason);
        return new Scanned(view, true, false, false, null);
    }

    /** Running counts, kept by the one thread that writes. */
    private static final class Counts {
        long lines, errors, blocked, attacks, detected, benign, falsePositives, unlabelled;

        void write(Scanned s, PrintStream out) {
            out.println(Json.write(s.view()));
            lines++;
            if (s.error()) {
                errors++;
                return;
            }
            if (s.blocked()) blocked++;
            if (s.label() == null) {
                unlabelled++;
            } else if (s.label()) {
                attacks++;
                if (s.flagged()) detected++;
            } else {
                benign++;
                if (s.flagged()) falsePositives++;
            }
        }

        Summary summary() {
            return new Summary(lines, errors, blocked, attacks, detected, benign, falsePositives, unlabelled);
        }
    }

    /**
     * Lines of bytes, split at {@code \n} (a trailing {@code \r} and a leading UTF-8 byte-order mark
     * dropped); a line over {@link #MAX_LINE_BYTES} is skipped to its end without being kept.
     */
    static final class LineReader {
        private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        private final InputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private int at, filled;
        private long read;
        private long number;

        record Line(long number, byte[] bytes, boolean tooLong) {
            boolean blank() {
                if (tooLong) return false;
                for (byte b : bytes) if (b != ' ' && b != '\t' && b != '\r') return false;
                return true;
            }
        }

        LineReader(InputStream in) {
            this.in = in;
        }

        long bytesRead() {
            return read;
        }

        /** The next line, or null at the end of the input. */
        Line next() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            boolean tooLong = false, any = false;
            while (true) {
                if (at == filled) {
                    filled = in.read(buffer);
                    at = 0;
                    if (filled <= 0) {
                        filled = 0;
                        if (!any) return null;
                        break;
                    }
                    read += filled;
                }
                any = true;
                int nl = at;
                while (nl < filled && buffer[nl] != '\n') nl++;
                int length = nl - at;
                if (!tooLong && line.size() + length > MAX_LINE_BYTES) {
                    tooLong = true;
                    line.reset();
                }
                if (!tooLong) line.write(buffer, at, length);
                at = nl;
                if (nl < filled) {
                    at++;
                    break;
                }
            }
            number++;
            byte[] bytes = line.toByteArray();
            int from = number == 1 && startsWithBom(bytes) ? BOM.length : 0;
            int to = bytes.length > from && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            return new Line(number, from == 0 && to == bytes.length ? bytes : java.util.Arrays.copyOfRange(bytes, from, to), tooLong);
        }

        private static boolean startsWithBom(byte[] b) {
            return b.length >= 3 && b[0] == BOM[0] && b[1] == BOM[1] && b[2] == BOM[2];
        }
    }
}
