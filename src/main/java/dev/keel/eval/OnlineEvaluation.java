package dev.keel.eval;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.EvalConfig;
import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import dev.keel.store.Database;
import dev.keel.trace.Webhook;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * Online evaluation of production answers (README "Online evaluation and drift"). {@link #offer} is on the request path
 * and never blocks, throws or does more than one random draw for an answer it does not sample; a sampled answer waits
 * in a bounded queue ({@code eval.online.queue}; full, it is dropped and counted) for one worker virtual thread that
 * scores it with the {@link Judge} and adds its values to the tenant's five-minute bucket in the metadata database:
 * judge scores on the 1–5 scale, whether the answer declined, the retrieval top score and the query's unit embedding —
 * never the question or the answer. Every minute (and for {@link #report}) each tenant's last {@code window_minutes}
 * are compared with the {@code baseline_days} before them ({@link DriftCheck}); a signal that crosses its threshold
 * starts an alert episode — one WARN line without user text, the counter {@code keel.eval.online.alerts}, one webhook
 * POST — which lasts until the signal recovers, however many evaluations see it. Episodes live in the database, so
 * replicas sharing PostgreSQL pool their samples and notify once between them. Buckets older than
 * {@code baseline_days} + 1 day are deleted. Thread-safe. Owns its worker, its timer and the webhook client;
 * {@link #close()} stops them, dropping what is still queued.
 */
public final class OnlineEvaluation implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OnlineEvaluation.class);
    /** Signal names besides the judge's metrics: the "I don't know" rate, the retrieval top score, the query centroid's distance. */
    /** The samples counter's one description (Prometheus shows one HELP line for all its outcomes), so it names them all. */
    static final String SAMPLES_HELP = "Sampled answers by outcome: scored (the judge scored it), judge_failed (the judge could not; its drift"
            + " signals are kept), dropped (the queue was full or Keel was closing), lost (unreadable, or the database did not take it)";
    public static final String IDK_RATE = "idk_rate", TOP_SCORE = "top_score", CENTROID_DISTANCE = "centroid_distance";
    /** The judge metrics watched, on the 1–5 scale; a metric the judge does not give (correctness without a reference) stays empty. */
    static final List<String> JUDGE_METRICS = List.of(Judge.FAITHFULNESS, Judge.ANSWER_RELEVANCE, Judge.CITATION_ACCURACY, Judge.CORRECTNESS);
    /**
     * Samples add up per tenant in buckets this long, and windows are whole buckets: a week of baseline is 2,016 rows per
     * metric and tenant (and replica), whatever the traffic, with a window edge at most this coarse.
     */
    public static final Duration BUCKET = Duration.ofMinutes(5);
    /** How often every tenant with recent samples or an open alert is evaluated. */
    static final Duration EVALUATION_INTERVAL = Duration.ofMinutes(1);
    /** Buckets are kept this long beyond the baseline, so a restart or a late replica still finds a full baseline. */
    static final Duration RETENTION_MARGIN = Duration.ofDays(1);
    /** Samples judged before their aggregates are written, in one transaction: a burst costs one commit, not one per sample. */
    private static final int MAX_BATCH = 256;
    /**
     * Tenants whose window and baseline means are exported as gauges (2 × 7 series each); beyond, a tenant's numbers are in
     * {@code GET /v1/evals/online} only: in open local mode the tenant is a request header, and series are not free.
     */
    static final int MAX_GAUGED_TENANTS = 100;
    /** A judge's [0, 1] score maps onto the 1–5 scale the thresholds use: 1 + 4 × score. */
    private static final double SCALE_LOW = 1, SCALE_SPAN = 4;
    /** Baselines are recomputed when the window moves (one bucket); this many tenants' are kept meanwhile. */
    private static final int BASELINE_CACHE_TENANTS = 10_000;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    /**
     * One signal: its window and baseline means ({@code window} is the distance for the centroid, whose {@code baseline}
     * is null) with their sample counts, the change in the bad direction (a drop of a score, a rise of the "I don't know"
     * rate; null while either side is empty), its threshold, Welch's p (null when not tested) and whether it alerts now.
     */
    public record Signal(String name, Double window, long windowN, Double baseline, long baselineN, Double change, double threshold, Double pValue,
                         boolean alerting) {}

    /** An alert episode in progress on a signal, since when. */
    public record Alert(String signal, Instant since) {}

    /** A tenant's windows now: the window [{@code windowFrom}, {@code windowTo}), the baseline before it, every signal and the open alerts. */
    public record Report(String tenant, boolean enabled, double sampleRate, Instant windowFrom, Instant windowTo, Instant baselineFrom,
                         List<Signal> signals, List<Alert> alerts) {}

    private record Pending(String tenant, long atMillis, String question, Answer answer) {}

    private record Windows(long windowFrom, long windowTo, long baselineFrom) {}

    private record Baseline(Map<String, Moments> moments, OnlineSampleStore.Centroid centroid) {}

    /** Tells the worker to stop; never a sample. */
    private static final Pending STOP = new Pending("", 0, "", null);

    private final EvalConfig.Online config;
    private final Judge judge;
    private final Embedder embedder;
    private final OnlineSampleStore store;
    private final Clock clock;
    private final DoubleSupplier draw;
    private final BlockingQueue<Pending> queue;
    private final Thread worker;
    private final ScheduledExecutorService timer;
    private final Webhook webhook;
    private final MeterRegistry registry;
    private final Counter dropped, scored, judgeFailed, lost;
    private final AtomicLong accepted = new AtomicLong(), finished = new AtomicLong();
    private final Map<String, Map<String, double[]>> gauged = new ConcurrentHashMap<>();
    private final Cache<List<Object>, Baseline> baselines = Caffeine.newBuilder().maximumSize(BASELINE_CACHE_TENANTS).build();
    private volatile boolean closed;
    private boolean judgeDown; // worker thread only

    /** With the system clock and a thread-local random source for sampling. */
    public OnlineEvaluation(EvalConfig.Online config, Judge judge, Embedder embedder, Database db, MeterRegistry registry) {
        this(config, judge, embedder, db, registry, Clock.systemUTC(), () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * {@code clock} times samples and windows; {@code sampling} returns uniform draws in [0, 1) (thread-safe: it is
     * called from request threads), an answer being sampled when its draw is below {@code sample_rate}.
     */
    public OnlineEvaluation(EvalConfig.Online config, Judge judge, Embedder embedder, Database db, MeterRegistry registry, Clock clock,
                            DoubleSupplier sampling) {
        this.config = config;
        this.judge = judge;
        this.embedder = embedder;
        this.store = new OnlineSampleStore(db, UUID.randomUUID().toString());
        this.clock = clock;
        this.draw = sampling;
        this.registry = registry;
        this.queue = new LinkedBlockingQueue<>(config.queue() + 1); // + 1: room for STOP; linked: nothing allocated for an idle queue
        this.dropped = samples("dropped");
        this.scored = samples("scored");
        this.judgeFailed = samples("judge_failed");
        this.lost = samples("lost");
        Gauge.builder("keel.eval.online.queued", queue, BlockingQueue::size).description("Sampled answers waiting for the judge").register(registry);
        this.webhook = config.webhook() == null ? null
                : new Webhook(config.webhook(), "online evaluation: the alert", Counter.builder("keel.eval.online.webhook.failures")
                        .description("Alert webhook POSTs that failed or timed out").register(registry));
        this.worker = Thread.ofVirtual().name("keel-eval-online").start(this::work);
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("keel-eval-online-timer").daemon(true).factory());
        if (config.enabled()) {
            long every = EVALUATION_INTERVAL.toMillis();
            timer.scheduleWithFixedDelay(this::evaluateLogged, every, every, TimeUnit.MILLISECONDS);
        }
    }

    private Counter samples(String outcome) {
        return Counter.builder("keel.eval.online.samples").tag("outcome", outcome).description(SAMPLES_HELP).register(registry);
    }

    /**
     * Offers a finished answer to {@code question} (the question as the pipeline read it) for sampling. Returns at once:
     * unsampled, after one random draw; sampled, after queueing it, or counting it dropped when the queue is full.
     */
    public void offer(String tenant, String question, Answer answer) {
        if (!config.enabled() || closed || answer == null || draw.getAsDouble() >= config.sampleRate()) return;
        if (queue.size() < config.queue() && queue.offer(new Pending(tenant, clock.millis(), question, answer))) accepted.incrementAndGet();
        else dropped.increment();
    }

    /** Blocks until every sample accepted before this call is scored and stored (or failed); false after {@code timeout}. */
    public boolean awaitIdle(Duration timeout) {
        long target = accepted.get(), deadline = System.nanoTime() + timeout.toNanos();
        while (finished.get() < target) {
            if (System.nanoTime() > deadline) return false;
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
        return true;
    }

    private void work() {
        List<OnlineSample> batch = new ArrayList<>();
        boolean stopping = false;
        while (!stopping) {
            Pending next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            int taken = 0;
            for (; next != null; next = batch.size() < MAX_BATCH ? queue.poll() : null) {
                if (next == STOP) {
                    stopping = true;
                    break;
                }
                taken++;
                try {
                    batch.add(sample(next));
                } catch (RuntimeException e) { // a sample nobody can read is lost, not the worker
                    lost.increment();
                    LOG.error("online evaluation: a sample of tenant {} could not be read: {}", next.tenant(), e.toString());
                }
            }
            if (!batch.isEmpty()) store(batch);
            batch.clear();
            finished.addAndGet(taken);
        }
    }

    private void store(List<OnlineSample> batch) {
        try {
            store.add(batch, BUCKET.toMillis());
        } catch (RuntimeException e) {
            lost.increment(batch.size());
            LOG.error("online evaluation: {} samples could not be stored: {}", batch.size(), e.getMessage());
        }
    }

    /** The values kept of one answer: the judge's scores when it can give them, and the drift signals in any case. */
    private OnlineSample sample(Pending p) {
        Answer a = p.answer();
        Map<String, Double> values = new HashMap<>();
        values.put(IDK_RATE, a.answered() ? 0.0 : 1.0);
        topScore(a).ifPresent(v -> values.put(TOP_SCORE, v));
        try {
            Judge.Verdict verdict = judge.judge(new Judge.Input(p.tenant(), p.question(), a.text(), passages(a), null, !a.answered()));
            for (String metric : JUDGE_METRICS) {
                Double s = verdict.scores().get(metric);
                if (s != null && s >= 0 && s <= 1) values.put(metric, SCALE_LOW + SCALE_SPAN * s); // NaN and out-of-range verdicts are not scores
            }
            scored.increment();
            if (judgeDown) LOG.info("online evaluation: the judge {} scores again", judge.id());
            judgeDown = false;
        } catch (RuntimeException e) {
            judgeFailed.increment();
            if (!judgeDown) {
                LOG.warn("online evaluation: the judge {} failed ({}); samples keep their drift signals and are counted in"
                        + " keel.eval.online.samples{outcome=judge_failed} until it recovers", judge.id(), e.getClass().getSimpleName());
            }
            judgeDown = true;
        }
        return new OnlineSample(p.tenant(), p.atMillis(), values, queryVector(p.question()));
    }

    /**
     * The best vector similarity among the answer's sources: fused scores are normalised per query (the top hit of
     * weighted fusion scores about 1 by construction), so only the raw similarity says retrieval found less.
     */
    private static OptionalDouble topScore(Answer a) {
        return a.sources().stream().filter(h -> h.vectorRank() >= 0).mapToDouble(SearchHit::vectorScore).max();
    }

    private static List<Judge.Passage> passages(Answer a) {
        return a.sources().stream().map(h -> new Judge.Passage(h.chunk().title(), h.chunk().section(), h.chunk().body()))
                .toList();
    }

    /** The question's unit embedding, computed again (~3 ms, here off the request path: the pipeline's vector is not kept). */
    private float[] queryVector(String question) {
        try {
            return Vectors.normalize(embedder.embedQuery(question));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The tenant's windows, signals and open alerts now. */
    public Report report(String tenant) {
        Windows w = windows(clock.millis());
        List<Signal> signals = checks(tenant, w).stream().map(DriftCheck.Check::signal).toList();
        List<Alert> alerts = new ArrayList<>();
        store.alerts(tenant).forEach((signal, since) -> alerts.add(new Alert(signal, Instant.ofEpochMilli(since))));
        return new Report(tenant, config.enabled(), config.sampleRate(), Instant.ofEpochMilli(w.windowFrom()), Instant.ofEpochMilli(w.windowTo()),
                Instant.ofEpochMilli(w.baselineFrom()), signals, alerts);
    }

    /** Evaluates every tenant with samples in the window or an alert in progress: raises and ends alerts, updates gauges, deletes old buckets. */
    public void evaluate() {
        long now = clock.millis();
        Windows w = windows(now);
        store.deleteBefore(w.baselineFrom() - RETENTION_MARGIN.toMillis());
        for (String tenant : store.activeTenants(w.windowFrom())) evaluate(tenant, w, now);
    }

    private void evaluateLogged() {
        try {
            evaluate();
        } catch (RuntimeException e) {
            LOG.warn("online evaluation: evaluating the windows failed: {}", e.getMessage());
        }
    }

    private void evaluate(String tenant, Windows w, long now) {
        List<DriftCheck.Check> checks = checks(tenant, w);
        Map<String, Long> open = store.alerts(tenant);
        for (DriftCheck.Check check : checks) {
            Signal s = check.signal();
            if (s.alerting() && !open.containsKey(s.name())) {
                if (store.raise(tenant, s.name(), now)) raised(tenant, s, now);
            } else if (open.containsKey(s.name()) && check.recovered() && store.clear(tenant, s.name())) {
                LOG.info("online evaluation: tenant {}: {} recovered (changed by {}); its alert since {} ended", tenant, s.name(),
                        brief(s.change()), Instant.ofEpochMilli(open.get(s.name())));
            }
        }
        gauge(tenant, checks);
    }

    private void raised(String tenant, Signal s, long now) {
        if (s.window() == null) {
            LOG.warn("online evaluation alert: tenant {}: {} is {} (threshold {}): window n {}, baseline n {}", tenant, s.name(), brief(s.change()),
                    s.threshold(), s.windowN(), s.baselineN());
        } else {
            LOG.warn("online evaluation alert: tenant {}: {} changed by {} (threshold {}): window {} (n {}), baseline {} (n {}), Welch p {}", tenant,
                    s.name(), brief(s.change()), s.threshold(), brief(s.window()), s.windowN(), brief(s.baseline()), s.baselineN(), brief(s.pValue()));
        }
        Counter.builder("keel.eval.online.alerts").tag("signal", s.name()).description("Online evaluation alert episodes raised")
                .register(registry).increment();
        if (webhook == null) return;
        Map<String, Object> alert = new LinkedHashMap<>();
        alert.put("type", "keel.eval.online.alert");
        alert.put("tenant", tenant);
        alert.put("signal", s);
        alert.put("since", Instant.ofEpochMilli(now));
        webhook.send(alert);
    }

    /** A figure for a log line: three significant digits, "-" when there is none. */
    private static String brief(Double v) {
        return v == null ? "-" : String.format(java.util.Locale.ROOT, "%.3g", v);
    }

    private List<DriftCheck.Check> checks(String tenant, Windows w) {
        Baseline b = baselines.get(List.of(tenant, w.baselineFrom(), w.windowFrom()), k -> new Baseline(
                store.moments(tenant, w.baselineFrom(), w.windowFrom()), store.centroid(tenant, w.baselineFrom(), w.windowFrom(), embedder.dimension())));
        return DriftCheck.compare(config, store.moments(tenant, w.windowFrom(), w.windowTo()), b.moments(),
                store.centroid(tenant, w.windowFrom(), w.windowTo(), embedder.dimension()), b.centroid());
    }

    /** The window is the whole buckets covering the last {@code window_minutes} up to the current one; the baseline, the days before. */
    private Windows windows(long now) {
        long bucket = BUCKET.toMillis(), windowMs = Duration.ofMinutes(config.windowMinutes()).toMillis();
        long to = Math.floorDiv(now, bucket) * bucket + bucket;
        long from = to - Math.max(1, (windowMs + bucket - 1) / bucket) * bucket;
        return new Windows(from, to, from - Duration.ofDays(config.baselineDays()).toMillis());
    }

    private void gauge(String tenant, List<DriftCheck.Check> checks) {
        Map<String, double[]> values = gauged.get(tenant);
        if (values == null) {
            if (gauged.size() >= MAX_GAUGED_TENANTS) return;
            values = gauged.computeIfAbsent(tenant, this::registerGauges);
        }
        for (DriftCheck.Check c : checks) {
            double[] v = values.get(c.signal().name());
            v[0] = c.signal().window() == null ? Double.NaN : c.signal().window();
            v[1] = c.signal().baseline() == null ? Double.NaN : c.signal().baseline();
        }
    }

    private Map<String, double[]> registerGauges(String tenant) {
        Map<String, double[]> values = new ConcurrentHashMap<>();
        List<String> signals = new ArrayList<>(JUDGE_METRICS);
        signals.addAll(List.of(IDK_RATE, TOP_SCORE, CENTROID_DISTANCE));
        for (String signal : signals) {
            double[] v = {Double.NaN, Double.NaN};
            values.put(signal, v);
            Gauge.builder("keel.eval.online.window", v, a -> a[0]).tags("tenant", tenant, "signal", signal)
                    .description("Online evaluation: the window's mean (the centroid's distance from the baseline's)").register(registry);
            Gauge.builder("keel.eval.online.baseline", v, a -> a[1]).tags("tenant", tenant, "signal", signal)
                    .description("Online evaluation: the baseline's mean").register(registry);
        }
        return values;
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        List<Pending> unscored = new ArrayList<>();
        queue.drainTo(unscored);
        while (!queue.offer(STOP)) queue.drainTo(unscored); // an offer that raced with closing
        dropped.increment(unscored.size());
        try {
            worker.join(CLOSE_WAIT);
            timer.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (webhook != null) webhook.close();
        }
    }
}
