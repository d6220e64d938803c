package dev.keel.bench;

import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The gateway's cost on streamed completions, the {@code streaming} and {@code streams} parts of
 * {@code keel bench gateway}. {@code streaming}: streams straight to a streaming fake upstream and through
 * Keel, in alternating rounds, one at a time on one connection and then at a fixed rate; the
 * upstream records when it wrote each frame, in this process's clock, so what Keel adds is read per
 * stream (first byte, first content delta, last byte after the upstream's last) and per frame.
 * {@code streams}: 1,000 slow streams held open through Keel at once, with Keel's heap after a full
 * collection and its RSS measured while they are all open; each must then complete with the right text.
 */
public final class GatewayStreamBench {
    /** Each measured stream: this many content deltas, 1 ms apart, so every frame travels on its own. */
    private static final FakeUpstream.StreamShape MEASURED = new FakeUpstream.StreamShape(20, 1);
    /** A held-open stream: a delta a second for longer than opening 1,000 and two full collections take on a loaded machine. */
    private static final FakeUpstream.StreamShape HELD_OPEN = new FakeUpstream.StreamShape(40, 1_000);
    private static final int ROUNDS = 5;
    /** Streams per path and round when sequential (about a second each on this machine). */
    private static final int SEQUENTIAL_PER_ROUND = 40;
    /** Streams started per second at the fixed rate, and for how long per path and round. */
    private static final int RATE_PER_SECOND = 200;
    private static final Duration RATE_ROUND = Duration.ofSeconds(2);
    private static final Duration UNSTREAMED_ROUND = Duration.ofSeconds(3);
    /** Before the unstreamed rounds: enough requests, several at a time, for the JIT to compile the unstreamed path as the streamed one was. */
    private static final Duration UNSTREAMED_WARM_UP = Duration.ofSeconds(5);
    private static final int UNSTREAMED_WARM_UP_CALLERS = 16;
    /** Streams through Keel before anything is measured, so its JIT has compiled the streaming path. */
    private static final Duration JIT_WARM_UP = Duration.ofSeconds(20);
    private static final int HELD_OPEN_STREAMS = 1_000;
    /** Held-open streams started per second: fast enough to open all 1,000 well before the first ends. */
    private static final int HELD_OPEN_PER_SECOND = 250;
    private static final Duration STREAM_TIMEOUT = Duration.ofMinutes(3);
    private static final String PROMPT = "Say ok.";

    /** A percentile pair in milliseconds; NaN when nothing was measured (no stream whose frames matched the upstream's one to one). */
    public record Spread(double p50Ms, double p99Ms) {
        static Spread of(double[] ms) {
            if (ms.length == 0) return new Spread(Double.NaN, Double.NaN);
            return new Spread(Measurements.percentile(ms, 50), Measurements.percentile(ms, 99));
        }

        Spread minus(Spread other) {
            return new Spread(p50Ms - other.p50Ms, p99Ms - other.p99Ms);
        }
    }

    /**
     * One path's streams: {@code firstByte} and {@code firstDelta} from sending, {@code toUpstream} from sending to the
     * upstream's first write (the request's way in), {@code tail} from the upstream's last frame to the client's,
     * {@code frameLag} from the upstream writing each frame to the client having it;
     * {@code cpuMsPerStream} Keel's CPU per stream (0 when direct); {@code failed} streams that broke or had wrong text.
     */
    public record PathStreams(long streams, long failed, Spread firstByte, Spread firstDelta, Spread toUpstream, Spread tail, Spread frameLag, double cpuMsPerStream) {}

    /** Direct vs through Keel under one load; {@code frames} per stream. */
    public record Comparison(String load, int frames, PathStreams direct, PathStreams keel) {
        public Spread addedFirstByte() {
            return keel.firstByte().minus(direct.firstByte());
        }

        public Spread addedFirstDelta() {
            return keel.firstDelta().minus(direct.firstDelta());
        }

        /** What Keel adds before the upstream starts answering: the request side of the added first byte. */
        public Spread addedToUpstream() {
            return keel.toUpstream().minus(direct.toUpstream());
        }

        public Spread addedTail() {
            return keel.tail().minus(direct.tail());
        }

        /** Added time per frame: what Keel adds to the lag of each frame behind the upstream's write. */
        public Spread addedPerFrame() {
            return keel.frameLag().minus(direct.frameLag());
        }
    }

    /**
     * {@code streams} held open through Keel at once: how many were open while Keel's heap was measured (from the
     * full collection's start to its end), completed, and with the right text, [DONE] last; Keel's heap after a full
     * collection before they opened and while they were open, and its RSS while open.
     */
    public record HeldOpen(int streams, int openWhileMeasured, int completed, int correct, double heapBeforeMiB, double heapOpenMiB, double rssOpenMiB) {}

    /**
     * Either part may be null when not run; {@code unstreamed}: the same requests without {@code "stream"}, one at a
     * time through the same Keel to the same upstream, so what streaming itself adds reads against it.
     */
    public record Result(int deltas, int intervalMs, List<Comparison> measured, HeldOpen heldOpen, GatewayBench.RateResult unstreamed) {}

    private GatewayStreamBench() {}

    /** Runs {@code measured} (sequential and fixed-rate comparisons) and/or {@code heldOpen} against a Keel of its own. */
    static Result run(boolean measured, boolean heldOpen, boolean guards, List<String> jvmOptions, LoadGenerator load, Path work, PrintStream log)
            throws Exception {
        try (FakeUpstream fast = FakeUpstream.streaming(MEASURED); FakeUpstream slow = FakeUpstream.streaming(HELD_OPEN)) {
            Path config = Files.writeString(work.resolve("keel-bench-streams.yaml"),
                    GatewayBench.keelConfig(Map.of("stream", fast.baseUrl(), "slow-stream", slow.baseUrl()), guards));
            log.println("gateway: starting keel serve for the streaming parts…");
            try (ServerProcess keel = ServerProcess.keel(config, work.resolve("keel-streams"), jvmOptions)) {
                URI keelUri = URI.create("http://127.0.0.1:" + keel.port() + "/v1/chat/completions");
                Map<String, String> auth = Map.of("Authorization", "Bearer " + GatewayBench.createKey(keel.port(), "bench-streams"));
                Bodies bodies = new Bodies();
                List<Comparison> comparisons = null;
                GatewayBench.RateResult unstreamed = null;
                if (measured) {
                    Target direct = new Target(URI.create(fast.baseUrl() + "/chat/completions"), Map.of(), null), viaKeel = new Target(keelUri, auth, keel);
                    log.println("gateway: warming up the streaming path…");
                    atRate(load, direct, bodies.of("stream"), JIT_WARM_UP);
                    atRate(load, viaKeel, bodies.of("stream"), JIT_WARM_UP);
                    log.printf("gateway: streams of %d deltas %d ms apart, one at a time, direct and through Keel in %d rounds…%n",
                            MEASURED.deltas(), MEASURED.intervalMs(), ROUNDS);
                    comparisons = List.of(compare("sequential, one connection", load, fast, direct, viaKeel, bodies, false),
                            compare(RATE_PER_SECOND + " streams/s", load, fast, direct, viaKeel, bodies, true));
                    unstreamed = unstreamed(load, direct, viaKeel);
                }
                HeldOpen open = heldOpen ? holdOpen(load, keel, keelUri, auth, slow, bodies, log) : null;
                return new Result(MEASURED.deltas(), MEASURED.intervalMs(), comparisons, open, unstreamed);
            }
        }
    }

    /** Where streams go: straight to the upstream ({@code server} null) or through a Keel process. */
    private record Target(URI uri, Map<String, String> headers, ServerProcess server) {}

    /** Streaming request bodies numbered across the whole run, so each names one upstream stream. */
    private static final class Bodies {
        private final AtomicLong next = new AtomicLong();

        java.util.function.Supplier<Numbered> of(String model) {
            String head = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + " (request ";
            String tail = ")\"}],\"max_tokens\":64,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
            return () -> {
                long n = next.getAndIncrement();
                return new Numbered(n, (head + n + tail).getBytes(StandardCharsets.UTF_8));
            };
        }
    }

    private record Numbered(long number, byte[] body) {}

    /** A client's reading of stream {@code number}. */
    private record Read(long number, LoadGenerator.StreamReading reading) {}

    private static Comparison compare(String name, LoadGenerator load, FakeUpstream upstream, Target direct, Target viaKeel, Bodies bodies, boolean atRate)
            throws Exception {
        List<Read> directReads = new ArrayList<>(), keelReads = new ArrayList<>();
        double keelCpu = 0;
        for (int round = 0; round < ROUNDS; round++) {
            directReads.addAll(atRate ? atRate(load, direct, bodies.of("stream"), RATE_ROUND) : oneAtATime(load, direct, bodies.of("stream")));
            double cpu = viaKeel.server().cpuSeconds();
            keelReads.addAll(atRate ? atRate(load, viaKeel, bodies.of("stream"), RATE_ROUND) : oneAtATime(load, viaKeel, bodies.of("stream")));
            keelCpu += viaKeel.server().cpuSeconds() - cpu;
        }
        return new Comparison(name, MEASURED.frames(true), figures(directReads, upstream, 0), figures(keelReads, upstream, keelCpu));
    }

    /** Non-streamed requests one at a time, direct and through Keel in alternating rounds. */
    private static GatewayBench.RateResult unstreamed(LoadGenerator load, Target direct, Target viaKeel) throws InterruptedException {
        java.util.function.Supplier<byte[]> body = LoadGenerator.chatBodies("stream", PROMPT + " unstreamed");
        List<LoadGenerator.Run> directRuns = new ArrayList<>(), keelRuns = new ArrayList<>();
        double keelCpu = 0;
        load.closedLoop(viaKeel.uri(), viaKeel.headers(), body, UNSTREAMED_WARM_UP_CALLERS, UNSTREAMED_WARM_UP);
        for (int round = 0; round < ROUNDS; round++) {
            directRuns.add(load.closedLoop(direct.uri(), direct.headers(), body, 1, UNSTREAMED_ROUND));
            double cpu = viaKeel.server().cpuSeconds();
            keelRuns.add(load.closedLoop(viaKeel.uri(), viaKeel.headers(), body, 1, UNSTREAMED_ROUND));
            keelCpu += viaKeel.server().cpuSeconds() - cpu;
        }
        return new GatewayBench.RateResult(1, GatewayBench.Stats.of(LoadGenerator.Run.merge(directRuns), 0),
                GatewayBench.Stats.of(LoadGenerator.Run.merge(keelRuns), keelCpu));
    }

    private static List<Read> oneAtATime(LoadGenerator load, Target target, java.util.function.Supplier<Numbered> bodies) throws Exception {
        List<Read> reads = new ArrayList<>();
        for (int i = 0; i < SEQUENTIAL_PER_ROUND; i++) {
            Numbered b = bodies.get();
            CompletableFuture<LoadGenerator.StreamReading> done = new CompletableFuture<>();
            load.stream(target.uri(), target.headers(), b.body(), STREAM_TIMEOUT, () -> {}, done::complete);
            reads.add(new Read(b.number(), done.get(STREAM_TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
        }
        return reads;
    }

    private static List<Read> atRate(LoadGenerator load, Target target, java.util.function.Supplier<Numbered> bodies, Duration length)
            throws InterruptedException {
        int total = (int) (RATE_PER_SECOND * length.toSeconds());
        return started(load, target, bodies, total, RATE_PER_SECOND, new CountDownLatch(0)).awaitAll();
    }

    /** Streams started on a fixed schedule; {@code firstBytes} counts down as each one's first byte arrives. */
    private static Started started(LoadGenerator load, Target target, java.util.function.Supplier<Numbered> bodies, int total, int perSecond,
                                   CountDownLatch firstBytes) {
        Queue<Read> reads = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime(), interval = 1_000_000_000L / perSecond;
        for (int i = 0; i < total; i++) {
            long wait = start + i * interval - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            Numbered b = bodies.get();
            load.stream(target.uri(), target.headers(), b.body(), STREAM_TIMEOUT, firstBytes::countDown, r -> {
                reads.add(new Read(b.number(), r));
                done.countDown();
            });
        }
        return new Started(reads, done);
    }

    private record Started(Queue<Read> reads, CountDownLatch done) {
        int open() {
            return (int) done.getCount();
        }

        List<Read> awaitAll() throws InterruptedException {
            done.await(STREAM_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
            return List.copyOf(reads);
        }
    }

    private static PathStreams figures(List<Read> reads, FakeUpstream upstream, double cpuSeconds) {
        String expected = MEASURED.text();
        List<Double> firstByte = new ArrayList<>(), firstDelta = new ArrayList<>(), toUpstream = new ArrayList<>(), tail = new ArrayList<>(), lag = new ArrayList<>();
        long failed = 0;
        for (Read read : reads) {
            LoadGenerator.StreamReading r = read.reading();
            long[] written = upstream.frameTimes(read.number());
            if (r.failure() != null || written == null || !r.text().equals(expected)) {
                failed++;
                continue;
            }
            long[] got = r.frameNanos();
            firstByte.add(ms(r.firstByteNanos() - r.sentNanos()));
            firstDelta.add(ms(r.firstContentNanos() - r.sentNanos()));
            toUpstream.add(ms(written[0] - r.sentNanos()));
            tail.add(ms(got[got.length - 1] - written[written.length - 1]));
            // Frame by frame only when they match one to one: the output guard may hold deltas back and send them as one.
            if (got.length == written.length) for (int i = 0; i < written.length; i++) lag.add(ms(got[i] - written[i]));
        }
        long ok = reads.size() - failed;
        return new PathStreams(reads.size(), failed, spread(firstByte), spread(firstDelta), spread(toUpstream), spread(tail), spread(lag),
                cpuSeconds <= 0 ? 0 : cpuSeconds * 1000 / Math.max(1, ok));
    }

    private static HeldOpen holdOpen(LoadGenerator load, ServerProcess keel, URI keelUri, Map<String, String> auth, FakeUpstream upstream, Bodies bodies,
                                     PrintStream log) throws InterruptedException {
        double heapBefore = keel.heapAfterGcMiB();
        log.printf("gateway: opening %,d streams through Keel (a delta a second for %d s)…%n", HELD_OPEN_STREAMS, HELD_OPEN.deltas());
        CountDownLatch allStarted = new CountDownLatch(HELD_OPEN_STREAMS);
        Started streams = started(load, new Target(keelUri, auth, keel), bodies.of("slow-stream"), HELD_OPEN_STREAMS, HELD_OPEN_PER_SECOND, allStarted);
        allStarted.await(STREAM_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        double heapOpen = keel.heapAfterGcMiB(), rssOpen = keel.rssMiB();
        // All were open when the measurement began; those still open at its end were open throughout.
        int openWhileMeasured = streams.open();
        log.printf("gateway: %,d streams open while the heap was measured; waiting for all to end…%n", openWhileMeasured);
        List<Read> reads = streams.awaitAll();
        String expected = HELD_OPEN.text();
        int correct = (int) reads.stream().filter(r -> r.reading().failure() == null && r.reading().text().equals(expected)).count();
        return new HeldOpen(HELD_OPEN_STREAMS, openWhileMeasured, reads.size(), correct, heapBefore, heapOpen, rssOpen);
    }

    private static Spread spread(List<Double> ms) {
        return Spread.of(ms.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
