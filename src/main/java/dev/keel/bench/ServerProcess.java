package dev.keel.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server under test in its own process (Keel as {@code keel serve}, or Portkey under Node), so
 * that it is measured as users run it: its own heap, JIT and garbage collector, its resident memory
 * and CPU time read from {@code /proc}. Started, waited for until it prints the line that says it
 * listens, and killed on close.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern KEEL_LISTENING = Pattern.compile("serving on http://[^:]+:(\\d+)");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private final Process process;
    private final int port;
    private final Deque<String> tail = new ArrayDeque<>();

    private ServerProcess(List<String> command, Function<String, Integer> portOf, int knownPort, Duration startup) throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        if (knownPort > 0) {
            Thread.ofVirtual().start(() -> {
                while (!listening.isDone() && process.isAlive()) {
                    try (Socket s = new Socket("127.0.0.1", knownPort)) {
                        listening.complete(knownPort);
                    } catch (IOException e) {
                        LockSupport.parkNanos(50_000_000L);
                    }
                }
            });
        }
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > 20) tail.removeFirst();
                    }
                    Integer p = portOf.apply(line);
                    if (p != null) listening.complete(p);
                }
            } catch (IOException e) {
                listening.completeExceptionally(e);
            }
            listening.completeExceptionally(new IOException("exited before it listened"));
        }, "server-output");
        reader.setDaemon(true);
        reader.start();
        try {
            port = listening.get(startup.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            close();
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IOException("the server did not start: " + e.getMessage() + "; last output:\n" + tail(), e);
        }
    }

    /**
     * {@code keel serve} in a new JVM: the same Java, class path and JVM options as this process
     * (without recording or debugging agents) followed by {@code extraJvmOptions}, on an ephemeral port.
     */
    static ServerProcess keel(Path config, Path data, List<String> extraJvmOptions) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-XX:StartFlightRecording") && !arg.startsWith("-agentlib") && !arg.startsWith("-javaagent")) command.add(arg);
        }
        command.addAll(extraJvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.keel.cli.Main", "serve", "--config", config.toString(),
                "--data", data.toString(), "--port", "0"));
        return new ServerProcess(command, line -> {
            Matcher m = KEEL_LISTENING.matcher(line);
            return m.find() ? Integer.parseInt(m.group(1)) : null;
        }, 0, Duration.ofMinutes(2));
    }

    /** Any server, ready once it accepts connections on {@code port} of the loopback interface. */
    static ServerProcess listeningOn(List<String> command, int port) throws IOException {
        return new ServerProcess(command, line -> null, port, Duration.ofSeconds(60));
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** Resident set size in MiB, or -1 where {@code /proc} is unavailable. */
    double rssMiB() {
        return Measurements.rssMiB(Path.of("/proc", Long.toString(pid()), "status"));
    }

    /** User + system CPU seconds the process has used so far, or -1 where {@code /proc} is unavailable. */
    double cpuSeconds() {
        try {
            return statCpuSeconds(Files.readString(Path.of("/proc", Long.toString(pid()), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * For a JVM on Linux: the CPU seconds its JIT compiler threads have used so far, by thread id (empty where
     * {@code /proc} is unavailable). Compiler threads come and go, so a window's compile time is
     * {@link #compilerCpuSecondsSince} a snapshot, thread by thread.
     */
    Map<String, Double> compilerCpuSeconds() {
        Map<String, Double> byThread = new java.util.HashMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid()), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (!name.startsWith("C1 Compiler") && !name.startsWith("C2 Compiler")) continue;
                    byThread.put(task.getFileName().toString(), statCpuSeconds(stat));
                } catch (IOException | RuntimeException gone) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return byThread;
    }

    /** User + system CPU seconds in a process's or thread's {@code /proc/.../stat} line (clock ticks of 1/100 s). */
    private static double statCpuSeconds(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    /**
     * CPU seconds the JIT compilers used since {@code before} (a {@link #compilerCpuSeconds} snapshot): a lower bound
     * where the JVM retires compiler threads inside the window (it starts and stops them on demand; on this 2-core
     * machine its two stay), since a thread gone by the end takes its time with it.
     */
    double compilerCpuSecondsSince(Map<String, Double> before) {
        double used = 0;
        for (Map.Entry<String, Double> t : compilerCpuSeconds().entrySet()) used += t.getValue() - before.getOrDefault(t.getKey(), 0.0);
        return used;
    }

    /** For a JVM: heap in use after a forced full collection, in MiB (via {@code jcmd}); -1 if unavailable. */
    double heapAfterGcMiB() {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            run(jcmd.toString(), Long.toString(pid()), "GC.run");
            // One unindented line per heap (G1's "garbage-first heap") or generation (Parallel's young and old);
            // indented lines are spaces within them, or metaspace.
            long usedKiB = 0;
            boolean any = false;
            for (String line : run(jcmd.toString(), Long.toString(pid()), "GC.heap_info").lines().toList()) {
                Matcher m = HEAP_USED.matcher(line);
                if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && m.find()) {
                    usedKiB += Long.parseLong(m.group(1));
                    any = true;
                }
            }
            return any ? usedKiB / 1024.0 : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    String tail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
