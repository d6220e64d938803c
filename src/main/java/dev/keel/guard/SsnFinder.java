package dev.keel.guard;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds US social security numbers: {@code NNN-NN-NNNN} or {@code NNN NN NNNN} anywhere, and nine
 * bare digits only after a context word ({@code SSN}, {@code social security}…), since nine digits
 * alone are more often something else. Numbers the SSA never issues are skipped: area 000, 666 or
 * 900-999, group 00, serial 0000.
 */
final class SsnFinder implements PiiScanner.Finder {
    private static final Pattern SEPARATED = Pattern.compile("(?<![\\d-])(\\d{3})([- ])(\\d{2})\\2(\\d{4})(?![\\d]|-\\d)");
    private static final Pattern BARE = Pattern.compile("(?<![\\d-])(\\d{3})(\\d{2})(\\d{4})(?![\\d]|-\\d)");
    private static final Pattern CONTEXT = Pattern.compile("(?i)\\b(?:ssn|ss#|ss no|social security|social sec|soc sec)");

    /** How far before bare digits a context word may stand: about one short clause. */
    private static final int CONTEXT_WINDOW = 40;

    @Override
    public void find(String text, List<PiiEntity> out) {
        Matcher m = SEPARATED.matcher(text);
        for (int at = 0; PiiScanner.findFromDigit(m, text, at); at = m.end()) {
            if (issued(m.group(1), m.group(3), m.group(4))) out.add(new PiiEntity("US_SSN", m.start(), m.end()));
        }
        m = BARE.matcher(text);
        for (int at = 0; PiiScanner.findFromDigit(m, text, at); at = m.end()) {
            if (issued(m.group(1), m.group(2), m.group(3))
                    && CONTEXT.matcher(text).region(Math.max(0, m.start() - CONTEXT_WINDOW), m.start()).find()) {
                out.add(new PiiEntity("US_SSN", m.start(), m.end()));
            }
        }
    }

    private static boolean issued(String area, String group, String serial) {
        int a = Integer.parseInt(area);
        return a != 0 && a != 666 && a < 900 && !group.equals("00") && !serial.equals("0000");
    }
}
