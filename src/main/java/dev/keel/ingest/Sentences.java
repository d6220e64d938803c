package dev.keel.ingest;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Splits text into sentences (JDK BreakIterator, English rules) without breaking after common
 * abbreviations; list lines and other line breaks also end a sentence. Thread-safe.
 */
public final class Sentences {
    private static final Set<String> ABBREVIATIONS = Set.of("e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "dr.", "no.", "approx.", "inc.", "ltd.", "st.", "fig.");

    private Sentences() {}

    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            BreakIterator it = BreakIterator.getSentenceInstance(Locale.ENGLISH);
            it.setText(line);
            StringBuilder carry = new StringBuilder();
            int start = it.first();
            for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
                String s = line.substring(start, end);
                carry.append(s);
                String trimmed = s.strip();
                int space = trimmed.lastIndexOf(' ');
                String lastWord = trimmed.substring(space + 1).toLowerCase(Locale.ROOT);
                if (ABBREVIATIONS.contains(lastWord) || (lastWord.length() == 2 && lastWord.endsWith(".") && Character.isLetter(lastWord.charAt(0)))) continue;
                add(out, carry);
            }
            add(out, carry);
        }
        return out;
    }

    private static void add(List<String> out, StringBuilder carry) {
        String s = carry.toString().strip();
        if (!s.isEmpty()) out.add(s);
        carry.setLength(0);
    }
}
