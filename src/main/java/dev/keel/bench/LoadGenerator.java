package dev.keel.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives one HTTP endpoint with POSTs, either open-loop at a fixed rate (each request leaves on its
 * schedule whether or not earlier ones returned, so queueing shows up as latency) or closed-loop
 * with N concurrent callers for maximum throughput. Bounded in count and time; loopback targets only.
 */
final class LoadGenerator {
    /** Outcome of one run. */
    record Run(long sent, long ok, long failed, double seconds, double[] latenciesMs, Map<String, Long> failures, double[] overheadMs) {
        double throughput() {
            return ok / seconds;
        }
    }

    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> failures = new java.util.concurrent.ConcurrentHashMap<>();

    private final ConcurrentLinkedQueue<Double> overheads = new ConcurrentLinkedQueue<>();

    private double[] drainOverheads() {
        double[] out = overheads.stream().mapToDouble(Double::doubleValue).toArray();
        overheads.clear();
        return out;
    }

    private void fail(String why) {
        failures.computeIfAbsent(why, k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    private Map<String, Long> drainFailures() {
        Map<String, Long> out = new java.util.TreeMap<>();
        failures.forEach((k, v) -> out.put(k, v.sum()));
        failures.clear();
        return out;
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(Executors.newVirtualThreadPerTaskExecutor())
            .connectTimeout(Duration.ofSeconds(5)).build();

    Run fixedRate(URI uri, Map<String, String> headers, String body, int perSecond, Duration length) throws InterruptedException {
        long total = (long) perSecond * length.toSeconds();
        long intervalNanos = 1_000_000_000L / perSecond;
        ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong ok = new AtomicLong(), failed = new AtomicLong();
        CountDownLatch done = new CountDownLatch((int) total);
        long start = System.nanoTime();
        try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
            for (long i = 0; i < total; i++) {
                long due = start + i * intervalNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                senders.submit(() -> {
                    try {
                        sendOnce(uri, headers, body, latencies, ok, failed);
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await(length.toSeconds() + 60, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(total, ok.get(), failed.get(), seconds, latencies.stream().mapToDouble(Double::doubleValue).toArray(), drainFailures(), drainOverheads());
    }

    Run closedLoop(URI uri, Map<String, String> headers, String body, int concurrency, Duration length) throws InterruptedException {
        ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong ok = new AtomicLong(), failed = new AtomicLong(), sent = new AtomicLong();
        long start = System.nanoTime(), end = start + length.toNanos();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < concurrency; c++) {
                callers.submit(() -> {
                    while (System.nanoTime() < end) {
                        sent.incrementAndGet();
                        sendOnce(uri, headers, body, latencies, ok, failed);
                    }
                });
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(sent.get(), ok.get(), failed.get(), seconds, latencies.stream().mapToDouble(Double::doubleValue).toArray(), drainFailures(), drainOverheads());
    }

    private void sendOnce(URI uri, Map<String, String> headers, String body, ConcurrentLinkedQueue<Double> latencies, AtomicLong ok, AtomicLong failed) {
        try {
            long t = System.nanoTime();
            HttpResponse<Void> r = http.send(request(uri, headers, body), HttpResponse.BodyHandlers.discarding());
            latencies.add((System.nanoTime() - t) / 1e6);
            r.headers().firstValue("x-keel-overhead-ms").ifPresent(v -> overheads.add(Double.parseDouble(v)));
            (r.statusCode() == 200 ? ok : failed).incrementAndGet();
            if (r.statusCode() != 200) fail("http " + r.statusCode());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.incrementAndGet();
        } catch (Exception e) {
            failed.incrementAndGet();
            fail(e.getClass().getSimpleName());
        }
    }

    private static HttpRequest request(URI uri, Map<String, String> headers, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return b.build();
    }
}
