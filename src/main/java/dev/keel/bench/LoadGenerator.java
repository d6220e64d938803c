package dev.keel.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Drives one HTTP endpoint with POSTs on Jetty's asynchronous client (no thread per request, so the
 * generator takes little of the CPU it shares with what it measures), either open-loop at a fixed
 * rate or closed-loop with N concurrent callers for maximum throughput. Open-loop latency is
 * measured from each request's scheduled start, so a stalled server shows up as latency rather than
 * as fewer requests (no coordinated omission). Bounded in count and time; loopback targets only.
 */
final class LoadGenerator implements AutoCloseable {
    /** Outcome of one run; {@code overheadMs} are the {@code x-keel-overhead-ms} values seen. */
    record Run(long sent, long ok, long failed, double seconds, double[] latenciesMs, Map<String, Long> failures, double[] overheadMs) {
        double throughput() {
            return ok / seconds;
        }

        double successRate() {
            return (double) ok / Math.max(1, sent);
        }

        /** Runs of one configuration taken in turns with another's, as one. */
        static Run merge(java.util.List<Run> runs) {
            long sent = 0, ok = 0, failed = 0;
            double seconds = 0;
            Map<String, Long> why = new TreeMap<>();
            java.util.stream.DoubleStream.Builder latencies = java.util.stream.DoubleStream.builder(), overheads = java.util.stream.DoubleStream.builder();
            for (Run r : runs) {
                sent += r.sent();
                ok += r.ok();
                failed += r.failed();
                seconds += r.seconds();
                r.failures().forEach((k, v) -> why.merge(k, v, Long::sum));
                for (double l : r.latenciesMs()) latencies.add(l);
                for (double o : r.overheadMs()) overheads.add(o);
            }
            return new Run(sent, ok, failed, seconds, latencies.build().toArray(), why, overheads.build().toArray());
        }
    }

    static final int MAX_CONNECTIONS = 1000;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * Chat request bodies whose user message is {@code text} followed by a number, so no two requests are alike: a
     * cache keyed by the text (Keel's guard and response caches) serves none of them, as with users. The number comes
     * from one counter per call of this method, so it keeps counting across runs (warm-up, rounds) that share it.
     */
    static Supplier<byte[]> chatBodies(String model, String text) {
        String head = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + " (request ";
        String tail = ")\"}],\"max_tokens\":5}";
        java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
        return () -> (head + next.getAndIncrement() + tail).getBytes(StandardCharsets.UTF_8);
    }
    private final HttpClient http;

    LoadGenerator() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("load-generator");
        threads.setDaemon(true);
        http = new HttpClient();
        http.setExecutor(threads);
        // Like an SDK's connection pool (the OpenAI Python SDK allows 1,000): past it, requests wait for a
        // connection, and that wait counts in their latency, measured from their scheduled start.
        http.setMaxConnectionsPerDestination(MAX_CONNECTIONS);
        http.setMaxRequestsQueuedPerDestination(1 << 20);
        http.setIdleTimeout(60_000);
        http.setConnectTimeout(5_000);
        http.start();
    }

    /** Sends {@code perSecond} requests a second for {@code length}, each on its schedule whatever earlier ones did. */
    Run fixedRate(URI uri, Map<String, String> headers, Supplier<byte[]> body, int perSecond, Duration length) throws InterruptedException {
        int total = (int) Math.min(Integer.MAX_VALUE - 8, (long) perSecond * length.toSeconds());
        long intervalNanos = 1_000_000_000L / perSecond;
        Recorder rec = new Recorder(total);
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long due = start + i * intervalNanos;
            long wait = due - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            request(uri, headers, body.get()).send(result -> {
                rec.record(result, due);
                done.countDown();
            });
        }
        boolean finished = done.await(length.toSeconds() + 60, TimeUnit.SECONDS);
        return rec.run(total, (System.nanoTime() - start) / 1e9, finished);
    }

    /** {@code concurrency} callers, each sending its next request when the previous one completes, for {@code length}. */
    Run closedLoop(URI uri, Map<String, String> headers, Supplier<byte[]> body, int concurrency, Duration length) throws InterruptedException {
        Recorder rec = new Recorder((int) Math.min(1 << 24, 50_000L * Math.max(1, length.toSeconds())));
        CountDownLatch done = new CountDownLatch(concurrency);
        AtomicInteger sent = new AtomicInteger();
        long start = System.nanoTime(), end = start + length.toNanos();
        for (int c = 0; c < concurrency; c++) {
            new Runnable() {
                @Override
                public void run() {
                    long t = System.nanoTime();
                    if (t >= end) {
                        done.countDown();
                        return;
                    }
                    sent.incrementAndGet();
                    request(uri, headers, body.get()).send(result -> {
                        rec.record(result, t);
                        run();
                    });
                }
            }.run();
        }
        boolean finished = done.await(length.toSeconds() + 60, TimeUnit.SECONDS);
        return rec.run(sent.get(), (System.nanoTime() - start) / 1e9, finished);
    }

    /**
     * A streamed response as its client read it: {@code failure} null when it ended 200 with its body complete;
     * times in {@link System#nanoTime()}: when it was sent, when the body's first byte came, and when each SSE
     * {@code data:} frame was complete; {@code deltas} the content delta text of each data frame (null for frames
     * without one, such as the usage chunk and {@code [DONE]}).
     */
    record StreamReading(String failure, long sentNanos, long firstByteNanos, long[] frameNanos, List<String> deltas) {
        /** The content deltas together. */
        String text() {
            StringBuilder b = new StringBuilder();
            for (String d : deltas) if (d != null) b.append(d);
            return b.toString();
        }

        /** When the first frame with content text was complete, or -1 if none had any. */
        long firstContentNanos() {
            for (int i = 0; i < deltas.size(); i++) if (deltas.get(i) != null && !deltas.get(i).isEmpty()) return frameNanos[i];
            return -1;
        }
    }

    /**
     * Sends one streaming chat request and hands its {@link StreamReading} to {@code done} from the client's thread;
     * frames are timed as their bytes arrive (no thread per stream), and {@code opened} runs once, when the body's
     * first byte came (or the response ended without one). The body is parsed once the stream ended.
     */
    void stream(URI uri, Map<String, String> headers, byte[] body, Duration timeout, Runnable opened, java.util.function.Consumer<StreamReading> done) {
        long sent = System.nanoTime();
        SseFrames frames = new SseFrames();
        request(uri, headers, body).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .onResponseContent((response, content) -> {
                    if (frames.add(content, System.nanoTime())) opened.run();
                })
                .send(result -> {
                    String failure = result.isFailed() ? result.getFailure().getClass().getSimpleName()
                            : result.getResponse().getStatus() != 200 ? "http " + result.getResponse().getStatus() : null;
                    StreamReading reading = frames.reading(failure, sent);
                    if (reading.firstByteNanos() < 0) opened.run();
                    done.accept(reading);
                });
    }

    /** The bytes of one SSE body as they arrive, with the time each {@code data:} frame was complete. Single-threaded (one response's callbacks). */
    private static final class SseFrames {
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final java.util.List<Long> dataFrameEnds = new java.util.ArrayList<>();
        private long firstByte = -1;
        /** The first byte of the frame being read, -1 before it came. */
        private int frameFirst = -1;
        private int previous = -1;

        /** Takes the next bytes of the body; true if they are its first. */
        boolean add(java.nio.ByteBuffer content, long now) {
            boolean first = firstByte < 0 && content.hasRemaining();
            if (first) firstByte = now;
            while (content.hasRemaining()) {
                byte b = content.get();
                bytes.write(b);
                if (frameFirst < 0) frameFirst = b;
                if (b == '\n' && previous == '\n') {
                    if (frameFirst == 'd') dataFrameEnds.add(now);
                    frameFirst = -1;
                    previous = -1;
                } else {
                    previous = b;
                }
            }
            return first;
        }

        StreamReading reading(String failure, long sent) {
            List<String> deltas = new java.util.ArrayList<>();
            for (String frame : bytes.toString(StandardCharsets.UTF_8).split("\n\n")) {
                if (!frame.startsWith("data: ")) continue;
                String data = frame.substring(6);
                deltas.add(data.equals("[DONE]") ? null : contentDelta(data));
            }
            long[] ends = dataFrameEnds.stream().mapToLong(Long::longValue).toArray();
            if (failure == null && (ends.length != deltas.size() || deltas.isEmpty() || !bytes.toString(StandardCharsets.UTF_8).endsWith("data: [DONE]\n\n"))) {
                failure = "stream did not end with data: [DONE]";
            }
            return new StreamReading(failure, sent, firstByte, ends, deltas);
        }

        private static String contentDelta(String json) {
            try {
                com.fasterxml.jackson.databind.JsonNode delta = JSON.readTree(json).path("choices").path(0).path("delta").path("content");
                return delta.isTextual() ? delta.asText() : null;
            } catch (java.io.IOException e) {
                return null;
            }
        }
    }

    private Request request(URI uri, Map<String, String> headers, byte[] body) {
        Request r = http.newRequest(uri).method(HttpMethod.POST).timeout(30, TimeUnit.SECONDS).body(new BytesRequestContent("application/json", body));
        r.headers(h -> headers.forEach(h::put));
        return r;
    }

    /** Latencies and outcomes of one run, recorded from the client's threads. */
    private static final class Recorder {
        private final double[] latencies, overheads;
        private final AtomicInteger nLatency = new AtomicInteger(), nOverhead = new AtomicInteger();
        private final LongAdder ok = new LongAdder(), failed = new LongAdder();
        private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();

        Recorder(int capacity) {
            latencies = new double[capacity];
            overheads = new double[capacity];
        }

        void record(Result result, long startNanos) {
            double ms = (System.nanoTime() - startNanos) / 1e6;
            if (result.isFailed()) {
                fail(result.getFailure().getClass().getSimpleName());
                return;
            }
            int status = result.getResponse().getStatus();
            if (status != 200) {
                fail("http " + status);
                return;
            }
            ok.increment();
            int i = nLatency.getAndIncrement();
            if (i < latencies.length) latencies[i] = ms;
            String overhead = result.getResponse().getHeaders().get("x-keel-overhead-ms");
            if (overhead != null) {
                int j = nOverhead.getAndIncrement();
                if (j < overheads.length) overheads[j] = Double.parseDouble(overhead);
            }
        }

        private void fail(String why) {
            failed.increment();
            failures.computeIfAbsent(why, k -> new LongAdder()).increment();
        }

        Run run(long sent, double seconds, boolean finished) {
            Map<String, Long> why = new TreeMap<>();
            failures.forEach((k, v) -> why.put(k, v.sum()));
            long unfinished = sent - ok.sum() - failed.sum();
            if (!finished && unfinished > 0) why.put("no response in time", unfinished);
            return new Run(sent, ok.sum(), failed.sum() + Math.max(0, unfinished), seconds,
                    Arrays.copyOf(latencies, Math.min(latencies.length, nLatency.get())), why,
                    Arrays.copyOf(overheads, Math.min(overheads.length, nOverhead.get())));
        }
    }

    @Override
    public void close() throws Exception {
        http.stop();
    }
}
