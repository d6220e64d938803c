package dev.keel.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
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

    /**
     * Chat request bodies whose user message is {@code text} followed by the request's number, so no two requests of a
     * run are alike: a cache keyed by the text (Keel's guard and response caches) serves none of them, as with users.
     */
    static LongFunction<byte[]> chatBodies(String model, String text) {
        String head = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + " (request ";
        String tail = ")\"}],\"max_tokens\":5}";
        return n -> (head + n + tail).getBytes(StandardCharsets.UTF_8);
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
    Run fixedRate(URI uri, Map<String, String> headers, LongFunction<byte[]> body, int perSecond, Duration length) throws InterruptedException {
        int total = (int) Math.min(Integer.MAX_VALUE - 8, (long) perSecond * length.toSeconds());
        long intervalNanos = 1_000_000_000L / perSecond;
        Recorder rec = new Recorder(total);
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long due = start + i * intervalNanos;
            long wait = due - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            request(uri, headers, body.apply(i)).send(result -> {
                rec.record(result, due);
                done.countDown();
            });
        }
        boolean finished = done.await(length.toSeconds() + 60, TimeUnit.SECONDS);
        return rec.run(total, (System.nanoTime() - start) / 1e9, finished);
    }

    /** {@code concurrency} callers, each sending its next request when the previous one completes, for {@code length}. */
    Run closedLoop(URI uri, Map<String, String> headers, LongFunction<byte[]> body, int concurrency, Duration length) throws InterruptedException {
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
                    request(uri, headers, body.apply(sent.getAndIncrement())).send(result -> {
                        rec.record(result, t);
                        run();
                    });
                }
            }.run();
        }
        boolean finished = done.await(length.toSeconds() + 60, TimeUnit.SECONDS);
        return rec.run(sent.get(), (System.nanoTime() - start) / 1e9, finished);
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
