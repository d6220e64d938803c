package dev.keel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.keel.eval.EvalRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading run files and writing reports for {@code keel eval compare} and {@code keel eval report}: every failure is one line naming the file. */
final class RunFiles {
    /** Larger run files are refused before parsing: a run of 100,000 examples is well under this, and parsing one this large would exhaust the heap. */
    static final long MAX_RUN_BYTES = 256L << 20;

    private RunFiles() {}

    /** The run in {@code file}; an {@link IllegalArgumentException} with one line naming the file and, for bad JSON, the line and column. */
    static EvalRun read(Path file) {
        try {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
            if (Files.size(file) > MAX_RUN_BYTES) {
                throw new IllegalArgumentException(file + ": " + Files.size(file) + " bytes is larger than a run file can be (" + MAX_RUN_BYTES + ")");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        try {
            return EvalRun.read(file);
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof JsonProcessingException json) {
                String where = json.getLocation() == null ? "" : "line " + json.getLocation().getLineNr() + ", column " + json.getLocation().getColumnNr() + ": ";
                String why = json.getCause() instanceof NullPointerException
                        ? "null where a run needs a value (an entry of examples, warnings, overall or slices)" : firstLine(json.getOriginalMessage());
                throw new IllegalArgumentException(file + ": not a Keel eval run: " + where + why, e);
            }
            throw new IllegalArgumentException(firstLine(e.getMessage()), e);
        }
    }

    /** Writes a report, creating its folder; a failure names the option and the file. */
    static void write(Path file, String content, String option) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * {@code text} safe to print on a terminal: control characters (C0 with ESC, DEL, C1) and format characters (bidi
     * overrides and isolates, zero-width marks) become spaces, so a dataset, a run file or a judge's reply cannot move
     * the cursor, recolour or retitle the terminal, or reorder what it shows.
     */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> out.appendCodePoint(Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT ? ' ' : cp));
        return out.toString();
    }

    private static String firstLine(String message) {
        return message == null ? "unreadable" : printable(message.lines().findFirst().orElse("").strip());
    }
}
