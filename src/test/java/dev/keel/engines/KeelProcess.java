package dev.keel.engines;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code keel serve} in a child JVM, as an operator runs a replica: the test's own classpath,
 * a keel.yaml, its own data directory and an ephemeral port read from the line the server prints
 * when it listens. {@link #kill()} is {@code kill -9}; {@link #close()} stops it gracefully (and
 * forcibly after a timeout). The child's output goes to {@code replica.log} in its data directory.
 */
public final class KeelProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("serving on http://([^:/\\s]+):(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final String baseUrl;
    private final Path log;

    private KeelProcess(Process process, String baseUrl, Path log) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.log = log;
    }

    /** Starts {@code keel serve --config CONFIG --data DATA --port 0} with {@code env} added, and waits until it listens. */
    public static KeelProcess start(Path config, Path dataDir, java.util.Map<String, String> env) throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        Path log = dataDir.resolve("replica.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"), "dev.keel.cli.Main",
                "serve", "--config", config.toString(), "--data", dataDir.toString(), "--port", "0"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        CompletableFuture<String> listening = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("keel-replica-log").start(() -> copyOutput(process, log, listening));
        try {
            String base = listening.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return new KeelProcess(process, base, log);
        } catch (Exception e) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("keel serve did not start within " + START_TIMEOUT.toSeconds() + " s; its output:\n"
                    + (Files.exists(log) ? Files.readString(log) : "(none)"), e);
        }
    }

    private static void copyOutput(Process process, Path log, CompletableFuture<String> listening) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                out.write(line);
                out.newLine();
                out.flush();
                Matcher m = SERVING.matcher(line);
                if (!listening.isDone() && m.find()) listening.complete("http://" + m.group(1) + ":" + m.group(2));
            }
        } catch (IOException e) {
            listening.completeExceptionally(e);
        } finally {
            // Output ended: the process is gone or going; a start that never listened fails now, not at its timeout.
            listening.completeExceptionally(new IllegalStateException("keel serve stopped before it listened"));
        }
    }

    /** {@code http://host:port} of this replica. */
    public String baseUrl() {
        return baseUrl;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** What the replica printed so far. */
    public String output() throws IOException {
        return Files.readString(log);
    }

    /** {@code kill -9}: no shutdown hook, no flush, as a crashed machine. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) kill();
    }
}
