package dev.keel.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Latency percentiles and process memory for benchmark reports. */
public final class Measurements {
    private Measurements() {}

    /** Percentile (0–100) of samples in milliseconds, nearest-rank. */
    public static double percentile(double[] samplesMs, double p) {
        double[] s = samplesMs.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    /** Heap in use after a full collection, in MiB. */
    public static double heapUsedAfterGcMiB() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024);
    }

    /** Resident set size of this process in MiB (Linux), or -1 where /proc is unavailable. */
    public static double rssMiB() {
        return rssMiB(Path.of("/proc/self/status"));
    }

    /** Resident set size from a {@code /proc/<pid>/status} file in MiB, or -1 where it is unavailable. */
    static double rssMiB(Path procStatus) {
        try {
            for (String line : Files.readAllLines(procStatus)) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
