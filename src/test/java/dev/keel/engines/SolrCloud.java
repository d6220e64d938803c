package dev.keel.engines;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real SolrCloud for tests: two Solr 9.10 nodes and an embedded ZooKeeper
 * (MiniSolrCloudCluster from solr-test-framework) in a child JVM, on free ports chosen by the OS,
 * under a scratch directory. The child has its own classpath because Solr 9 runs on Jetty 10 and
 * Keel on Jetty 12: it is the Maven project in {@code src/test/solr-node}, whose classpath is
 * resolved once with {@code mvn dependency:build-classpath} (from Maven Central; cached in
 * {@code target/solr-node/classpath.txt}) and whose one class runs from source.
 *
 * <p>{@link #close()} ends the child's standard input, on which it shuts its nodes and ZooKeeper
 * down, waits for it (killing it after {@link #STOP_TIMEOUT_SECONDS}) and deletes the directory; a
 * JVM shutdown hook does the same if a test run dies first, and the child also stops by itself when
 * the test JVM is killed (its input ends). Without Maven or the dependencies the test is skipped,
 * unless {@code CI=true}, where it fails. Use one per test class: {@link #start()} in
 * {@code @BeforeAll}, close in {@code @AfterAll} (closing twice is harmless, so a test may close it
 * early to take Solr away).
 */
public final class SolrCloud implements AutoCloseable {
    private static final Path PROJECT = Path.of("src/test/solr-node");
    private static final Path CLASSPATH = Path.of("target/solr-node/classpath.txt");
    /** First run downloads ~85 MB of dependencies; later runs read the cached classpath. */
    private static final long RESOLVE_TIMEOUT_SECONDS = 900;
    /** Two nodes and ZooKeeper start in ~5 s on an idle 2-core machine; a loaded one is given far longer. */
    private static final long START_TIMEOUT_SECONDS = 180;
    private static final long STOP_TIMEOUT_SECONDS = 60;
    /** Heap of the child JVM: two nodes with small test collections. */
    private static final String CHILD_HEAP = "-Xmx768m";

    private final Path dir;
    private final Process process;
    private final Thread reaper = new Thread(this::stop, "solr-cloud-reaper");
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private volatile List<String> nodeUrls = List.of();

    private SolrCloud(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
        Runtime.getRuntime().addShutdownHook(reaper);
        Thread.ofVirtual().name("solr-cloud-output").start(this::readOutput);
    }

    /** Starts a cluster of two nodes and returns once both are live. */
    public static SolrCloud start() {
        String classpath = classpath();
        Path dir;
        try {
            dir = Files.createTempDirectory("keel-solr-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process process;
        try {
            process = new ProcessBuilder(java(), CHILD_HEAP, "-cp", classpath, PROJECT.resolve("SolrNode.java").toString(), dir.resolve("cluster").toString())
                    .redirectError(dir.resolve("solr.log").toFile()).start();
        } catch (IOException e) {
            delete(dir);
            throw new UncheckedIOException("cannot start the SolrCloud JVM", e);
        }
        SolrCloud cloud = new SolrCloud(dir, process);
        try {
            String line = cloud.awaitLine(START_TIMEOUT_SECONDS, "starting");
            if (!line.startsWith("SOLR_NODES ")) throw new IllegalStateException("SolrCloud said '" + line + "' while starting");
            cloud.nodeUrls = List.of(line.substring("SOLR_NODES ".length()).split(","));
            return cloud;
        } catch (RuntimeException e) {
            cloud.close();
            throw e;
        }
    }

    /** The nodes' base URLs ({@code http://127.0.0.1:PORT/solr}), as {@code index.solr.urls} takes them. */
    public List<String> nodeUrls() {
        return nodeUrls;
    }

    /** The child's next line starting with {@code SOLR_} (or a failure line if it exits first), waiting at most {@code seconds}. */
    private String awaitLine(long seconds, String doing) {
        String line;
        try {
            line = lines.poll(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while SolrCloud was " + doing, e);
        }
        if (line == null) throw new IllegalStateException("SolrCloud was not done " + doing + " within " + seconds + " s; see " + dir.resolve("solr.log"));
        if (line.startsWith("SOLR_FAILED ")) throw new IllegalStateException("SolrCloud failed " + doing + ": " + line.substring(12) + "; " + tail(dir));
        return line;
    }

    /** Copies the child's protocol lines (those starting with SOLR_) into {@link #lines}; ends with a failure line when the child exits. */
    private void readOutput() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l = out.readLine(); l != null; l = out.readLine()) {
                if (l.startsWith("SOLR_")) lines.add(l);
            }
        } catch (IOException e) {
            lines.add("SOLR_FAILED " + e);
        }
        lines.add("SOLR_FAILED the JVM exited");
    }

    /**
     * Stops node {@code index} (of {@link #nodeUrls()}) and returns once it is down; the others keep
     * running, so collections with a replica elsewhere stay available (after a leader election).
     */
    public synchronized void stopNode(int index) {
        try {
            process.getOutputStream().write(("stop " + index + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the SolrCloud JVM", e);
        }
        String line = awaitLine(STOP_TIMEOUT_SECONDS, "stopping node " + index);
        if (!line.equals("SOLR_STOPPED " + index)) throw new IllegalStateException("SolrCloud answered '" + line + "' to stopping node " + index);
    }

    /** The child project's classpath, resolved by Maven the first time (and again when its pom changed or a jar it names is gone). */
    private static String classpath() {
        try {
            Path pom = PROJECT.resolve("pom.xml");
            if (!Files.exists(CLASSPATH) || Files.getLastModifiedTime(CLASSPATH).compareTo(Files.getLastModifiedTime(pom)) < 0 || !complete()) resolve();
            return Files.readString(CLASSPATH).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether every jar the cached classpath names is still there (a cleaned Maven repository empties it). */
    private static boolean complete() throws IOException {
        for (String jar : Files.readString(CLASSPATH).strip().split(java.io.File.pathSeparator)) {
            if (!Files.exists(Path.of(jar))) return false;
        }
        return true;
    }

    private static void resolve() throws IOException {
        String mvn = onPath("mvn");
        if (mvn == null) unavailable("Maven (mvn) is not on PATH, so the test SolrCloud's dependencies cannot be resolved");
        Files.createDirectories(CLASSPATH.getParent());
        Path partial = CLASSPATH.resolveSibling("classpath.tmp"), log = CLASSPATH.resolveSibling("resolve.log");
        ProcessBuilder build = new ProcessBuilder(mvn, "-B", "-q", "-f", PROJECT.resolve("pom.xml").toString(), "dependency:build-classpath",
                "-Dmdep.outputFile=" + partial.toAbsolutePath()).redirectErrorStream(true).redirectOutput(log.toFile());
        build.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = build.start();
        try {
            if (!p.waitFor(RESOLVE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                unavailable("resolving the test SolrCloud's dependencies took over " + RESOLVE_TIMEOUT_SECONDS + " s; see " + log);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving the test SolrCloud's dependencies", e);
        }
        if (p.exitValue() != 0 || !Files.exists(partial)) {
            unavailable("cannot resolve the test SolrCloud's dependencies (Maven Central unreachable?); see " + log);
        }
        Files.move(partial, CLASSPATH, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Skips the test, or fails it when CI=true. */
    private static void unavailable(String message) {
        if ("true".equals(System.getenv("CI"))) throw new IllegalStateException(message);
        Assumptions.abort(message);
    }

    private static String onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String tail(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("solr.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Ends the child's input (it then shuts down), waits, kills what remains. */
    private synchronized void stop() {
        if (!process.isAlive()) return;
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // already closed: the child sees the end of its input either way
        }
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran: nothing to remove
        }
        delete(dir);
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
