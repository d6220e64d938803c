package dev.keel.cli;

import dev.keel.ingest.IngestListener;
import java.io.PrintStream;

/**
 * Ingest progress on stderr: a redrawn bar on a terminal (the launcher sets {@code keel.tty}), a line
 * every 10% otherwise.
 * Shows files, chunks and chunks per second; or, for other work, items and items per second.
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
        draw(done, total, String.format("%d/%d %s · %d chunks · %.1f chunks/s", done, total, label, chunks, rate));
    }

    /** Progress over work that is not files (questions of an evaluation): done of total, and how many per second. */
    void items(int done, int total, double seconds) {
        draw(done, total, String.format("%d/%d %s · %.1f/s", done, total, label, seconds > 0 ? done / seconds : 0));
    }

    private void draw(int done, int total, String stats) {
        int pct = total == 0 ? 100 : (int) (100L * done / total);
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
