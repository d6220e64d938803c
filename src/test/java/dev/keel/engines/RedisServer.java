package dev.keel.engines;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Redis for tests: Debian's {@code redis-server} started in a scratch directory on a free port
 * in 18000-19999, loopback only, without persistence, optionally with a password. {@link #stop()} and
 * {@link #start()} take it down and bring it back on the same port (to test outages and recovery);
 * {@link #close()} stops it and deletes the directory, and a JVM shutdown hook stops it if a test run
 * dies first. Without the binary the test is skipped, unless {@code CI=true}, where it fails.
 * Use one per test class: {@link #open()} in {@code @BeforeAll}, close in {@code @AfterAll}.
 */
public final class RedisServer implements AutoCloseable {
    private static final int FIRST_PORT = 18000, LAST_PORT = 19999;
    private static final long START_TIMEOUT_SECONDS = 20;
    /** Between two PINGs while it starts: often enough to notice at once, rarely enough not to load the machine. */
    private static final long POLL_NANOS = 10_000_000;
    private final Path dir;
    private final int port;
    private final String password;
    private final Thread reaper = new Thread(this::stop, "redis-server-reaper");
    private Process process;

    private RedisServer(String password) throws IOException {
        this.password = password;
        this.dir = Files.createTempDirectory("keel-redis-");
        this.port = freePort();
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** Starts a Redis without a password. */
    public static RedisServer open() {
        return openWithPassword(null);
    }

    /** Starts a Redis that requires {@code password} ({@code requirepass}). */
    public static RedisServer openWithPassword(String password) {
        String binary = binary();
        try {
            RedisServer server = new RedisServer(password);
            try {
                server.run(binary);
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code redis://[:password@]127.0.0.1:port} for keel.yaml. */
    public String url() {
        return "redis://" + (password == null ? "" : ":" + password + "@") + "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Starts it again on the same port after {@link #stop()} (its data is gone: no persistence). */
    public synchronized void start() {
        if (process == null) run(binary());
    }

    /** Stops it (SIGTERM, then SIGKILL) and waits until it is gone; the port is then closed. */
    public synchronized void stop() {
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Sends one command (inline protocol) and returns the first line of the reply. */
    public String command(String... words) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            if (password != null) out.write(("AUTH " + password + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.write((String.join(" ", words) + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            if (password != null) readLine(in);
            return readLine(in);
        } catch (IOException e) {
            return "-" + e.getMessage();
        }
    }

    private synchronized void run(String binary) {
        List<String> cmd = new ArrayList<>(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--dir", dir.toString(),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--enable-debug-command", "local", "--logfile", dir.resolve("redis.log").toString()));
        if (password != null) cmd.addAll(List.of("--requirepass", password));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        while (System.nanoTime() < until) {
            if (!process.isAlive()) throw new IllegalStateException("redis-server exited: " + log());
            if ("+PONG".equals(command("PING"))) return;
            LockSupport.parkNanos(POLL_NANOS);
        }
        stop();
        throw new IllegalStateException("redis-server did not answer on port " + port + " within " + START_TIMEOUT_SECONDS + " s: " + log());
    }

    private String log() {
        try {
            return Files.exists(dir.resolve("redis.log")) ? Files.readString(dir.resolve("redis.log")) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) if (c != '\r') line.append((char) c);
        return line.toString();
    }

    /** The binary on PATH; skips the test without it, or fails it when CI=true. */
    private static String binary() {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String d : path.split(":")) {
            Path p = Path.of(d, "redis-server");
            if (Files.isExecutable(p)) return p.toString();
        }
        String message = "redis-server is not installed (Debian package redis-server; .ci/run installs it)";
        if ("true".equals(System.getenv("CI"))) throw new IllegalStateException(message);
        Assumptions.abort(message);
        return null;
    }

    /** A port in 18000-19999 nobody listens on now, tried from a random start so parallel runs rarely collide. */
    private static int freePort() throws IOException {
        int span = LAST_PORT - FIRST_PORT + 1, start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = FIRST_PORT + (start + i) % span;
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException busy) {
                // taken: try the next
            }
        }
        throw new IOException("no free port in " + FIRST_PORT + "-" + LAST_PORT);
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran: nothing to remove
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
