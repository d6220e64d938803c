package dev.keel.engines;

import dev.keel.config.StoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL for tests: Debian's binaries ({@code /usr/lib/postgresql/N/bin}, else {@code pg_ctl}
 * on the PATH), a fresh cluster in a scratch directory, listening on 127.0.0.1 at a free port in
 * 18000–19999, password authentication for a superuser with a random password. Run as the
 * {@code postgres} user when the tests run as root (PostgreSQL refuses root). Without the binaries the
 * test is skipped, unless {@code CI=true}, where that is a failure. {@link #close()} (and a shutdown hook,
 * should the JVM exit first) stops the server and deletes the directory. fsync is off: {@link #stop()} and
 * {@link #restart()} keep every commit, only a machine crash would lose some (the data is scratch).
 * Typical use: one server per test class ({@link PerClass}), one {@link #storeConfig()} (a new database) per test.
 */
public final class PostgresServer implements AutoCloseable {
    /**
     * One server for a test class, started before its first test and stopped after its last:
     * {@code @RegisterExtension static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();}
     */
    public static final class PerClass implements BeforeAllCallback, AfterAllCallback {
        private PostgresServer server;

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            server = start();
        }

        @Override
        public void afterAll(ExtensionContext context) {
            if (server != null) server.close();
        }

        public PostgresServer server() {
            return server;
        }
    }

    public static final String USER = "keel";
    private static final int FIRST_PORT = 18_000, LAST_PORT = 19_999, PORT_ATTEMPTS = 20;
    private static final int START_TIMEOUT_SECONDS = 60;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final Path bin;
    private final Path dir;
    private final String password;
    private final Thread shutdownHook;
    private int port;

    private PostgresServer(Path bin, Path dir, String password) {
        this.bin = bin;
        this.dir = dir;
        this.password = password;
        this.shutdownHook = new Thread(this::stopQuietly, "postgres-test-stop");
    }

    /** Initialises a cluster and starts it; skips (or, in CI, fails) the calling test when PostgreSQL is not installed. */
    public static PostgresServer start() throws IOException, InterruptedException {
        Path bin = binaries();
        if (bin == null) {
            String why = "PostgreSQL binaries not found (apt-get install postgresql)";
            if ("true".equals(System.getenv("CI"))) throw new IllegalStateException(why);
            Assumptions.assumeTrue(false, why);
        }
        Path dir = Files.createTempDirectory("keel-pg-");
        byte[] secret = new byte[12];
        new java.security.SecureRandom().nextBytes(secret);
        PostgresServer server = new PostgresServer(bin, dir, "pw-" + HexFormat.of().formatHex(secret));
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        try {
            server.initialise();
            server.startOnFreePort();
            return server;
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** The superuser's password (tests check that it never shows). */
    public String password() {
        return password;
    }

    public int port() {
        return port;
    }

    /** A new empty database; its {@code jdbc:postgresql://} URL (without credentials). */
    public String createDatabase() {
        String name = "keel_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, password); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
        }
        return jdbcUrl(name);
    }

    /** Creates a login role (a superuser, so it may use any test database) with {@code password}, which may hold any character. */
    public void createRole(String role, String password) {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, this.password); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN SUPERUSER PASSWORD '" + password.replace("'", "''") + "'");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create role " + role + ": " + e.getMessage(), e);
        }
    }

    /** A Keel store configuration for a new empty database, credentials in their fields. */
    public StoreConfig storeConfig() {
        return StoreConfig.postgres(createDatabase(), USER, password, StoreConfig.DEFAULTS.poolSize(), StoreConfig.DEFAULTS.timeoutMs(),
                StoreConfig.DEFAULTS.traceRetentionMinutes());
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Stops the server at once (connections break), keeping its data; {@link #restart()} brings it back on the same port. */
    public void stop() throws IOException, InterruptedException {
        run(START_TIMEOUT_SECONDS, pgCtl("stop", "-m", "immediate", "-w"));
    }

    public void restart() throws IOException, InterruptedException {
        if (!start(port)) throw new IllegalStateException("PostgreSQL did not start again on port " + port + ": " + log());
    }

    @Override
    public void close() {
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run: nothing left to remove
        }
    }

    private void stopQuietly() {
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) stop();
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("postgres test server: stop failed: " + e.getMessage());
        }
        try (Stream<Path> files = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("postgres test server: cannot delete " + dir + ": " + e.getMessage());
        }
    }

    private void initialise() throws IOException, InterruptedException {
        Path pwfile = dir.resolve("pwfile");
        Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
        if (asRoot()) run(30, List.of("chown", "-R", "postgres:postgres", dir.toString()));
        run(START_TIMEOUT_SECONDS, command(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER, "--pwfile=" + pwfile,
                "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
        Files.delete(pwfile);
    }

    private void startOnFreePort() throws IOException, InterruptedException {
        Random random = new Random();
        for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
            int candidate = FIRST_PORT + random.nextInt(LAST_PORT - FIRST_PORT + 1);
            if (free(candidate) && start(candidate)) {
                port = candidate;
                return;
            }
        }
        throw new IllegalStateException("PostgreSQL did not start on any of " + PORT_ATTEMPTS + " ports: " + log());
    }

    /** Starts on {@code candidate}; false when it did not come up (the port was taken meanwhile). */
    private boolean start(int candidate) throws IOException, InterruptedException {
        String options = "-p " + candidate + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                + " -c full_page_writes=off -c max_connections=200";
        Process p = new ProcessBuilder(pgCtl("start", "-w", "-t", String.valueOf(START_TIMEOUT_SECONDS), "-l", dir.resolve("server.log").toString(),
                "-o", options)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(START_TIMEOUT_SECONDS + 10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return false;
        }
        return p.exitValue() == 0;
    }

    private List<String> pgCtl(String... args) {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString()));
        cmd.addAll(Arrays.asList(args));
        return command(cmd.toArray(String[]::new));
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log)";
        }
    }

    private static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        if (asRoot()) cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(int timeoutSeconds, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd.get(0) + " timed out");
        }
        if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path binaries() {
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Path newest = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
                        .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0")))).orElse(null);
                if (newest != null) return newest;
            } catch (IOException e) {
                return null;
            }
        }
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!p.isEmpty() && Files.isExecutable(Path.of(p, "pg_ctl"))) return Path.of(p);
        }
        return null;
    }
}
