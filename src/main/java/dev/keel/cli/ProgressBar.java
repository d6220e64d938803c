package dev.keel.cli;

import dev.keel.ingest.IngestListener;
import java.io.PrintStream;

/**
 * Ingest progress on stderr: a redrawn bar on a terminal (the launcher sets {@code keel.tty}), a line
 * every 10% otherwise.
 * Shows files, chunks and chunks per second.
 */
final class ProgressBar implements IngestListener {
    private final PrintStream out;
    private final boolean terminal;
    private final String label;
    private int lastDecile = -1;

    ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.terminal = Boolean.getBoolean("keel.tty");
        this.label = label;
    }

    @Override
    public void progress(int done, int total, long chunks, double seconds) {
        double rate = seconds > 0 ? chunks / seconds : 0;
        int pct = total == 0 ? 100 : (int) (100L * done / total);
        String stats = String.format("%d/%d %s · %d chunks · %.1f chunks/s", done, total, label, chunks, rate);
        if (terminal) {
            int width = 30, filled = width * pct / 100;
            out.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + String.format("%3d%% ", pct) + stats + "   ");
            if (done == total) out.println();
        } else if (pct / 10 != lastDecile) {
            lastDecile = pct / 10;
            out.println(String.format("%3d%% ", pct) + stats);
        }
        out.flush();
    }
}
