package dev.keel.eval;

import static dev.keel.eval.OnlineTimeline.NOW;
import static dev.keel.eval.OnlineTimeline.START;
import static dev.keel.eval.OnlineTimeline.WINDOW_START;
import static dev.keel.eval.OnlineTimeline.faithfulness;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.keel.engines.Await;
import dev.keel.store.Database;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Online evaluation: what it samples, what it keeps, when it alerts and how often it tells. Time is a clock the tests move. */
class OnlineEvaluationTest {
    private static final String TENANT = "acme";
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    private Database db;
    private OnlineTimeline timeline;

    @BeforeEach
    void openDatabase() {
        db = Database.open(dir);
    }

    @AfterEach
    void close() {
        if (timeline != null) timeline.close();
        db.close();
    }

    @Test
    void samplesTheConfiguredShareOfAnswersFromASeededSource() {
        timeline = new OnlineTimeline("sample_rate: 0.05\nqueue: 10000", new OnlineTimeline.ScriptedJudge(), db, new Random(42)::nextDouble);
        int answers = 4_000;
        for (int i = 0; i < answers; i++) timeline.answer(WINDOW_START.plusSeconds(i % 3_000), TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        timeline.clock.set(NOW);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(60))).isTrue();
        long sampled = timeline.signal(TENANT, OnlineEvaluation.IDK_RATE).windowN();
        System.out.printf("online evaluation: %d of %d answers sampled at sample_rate 0.05 (seed 42)%n", sampled, answers);
        assertThat(sampled).as("5%% of %d, within three standard deviations", answers).isBetween(160L, 240L);
        assertThat(timeline.samples("scored")).isEqualTo(sampled);
    }

    @Test
    void aFullQueueDropsSamplesAndCountsThemWithoutMakingTheCallerWait() throws Exception {
        CountDownLatch judging = new CountDownLatch(1), release = new CountDownLatch(1);
        Judge stuck = new OnlineTimeline.ScriptedJudge() {
            @Override
            public Verdict judge(Input input) {
                judging.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.judge(input);
            }
        };
        timeline = new OnlineTimeline("sample_rate: 1\nqueue: 5", stuck, db, () -> 0);
        timeline.answer(WINDOW_START, TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        assertThat(judging.await(30, TimeUnit.SECONDS)).isTrue();
        // A judge that hangs must not hold a request: 49 more offers return at once (the bound only catches a hang).
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (int i = 0; i < 49; i++) timeline.answer(WINDOW_START, TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        });
        assertThat(timeline.samples("dropped")).as("one judging, five queued, the rest dropped").isEqualTo(44);
        release.countDown();
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
        timeline.clock.set(NOW);
        assertThat(timeline.signal(TENANT, OnlineEvaluation.IDK_RATE).windowN()).isEqualTo(6);
    }

    @Test
    void aBadHourOfFaithfulnessRaisesExactlyOneAlertAndOneWebhookPost() throws Exception {
        List<JsonNode> posts = new CopyOnWriteArrayList<>();
        HttpServer receiver = receiver(posts, 200);
        try {
            timeline = new OnlineTimeline("webhook: http://127.0.0.1:" + receiver.getAddress().getPort() + "/alerts", db);
            timeline.week(TENANT, faithfulness(0.8, 0.08), faithfulness(0.45, 0.08));
            for (int minute = 0; minute < 5; minute++) { // the alert lasts: later evaluations see it and stay quiet
                timeline.clock.set(NOW.plus(Duration.ofSeconds(10L * minute)));
                timeline.online.evaluate();
            }
            OnlineEvaluation.Signal faithfulness = timeline.signal(TENANT, Judge.FAITHFULNESS);
            assertThat(faithfulness.alerting()).isTrue();
            assertThat(faithfulness.window()).isCloseTo(1 + 4 * 0.45, org.assertj.core.data.Offset.offset(0.1));
            assertThat(faithfulness.baseline()).isCloseTo(1 + 4 * 0.8, org.assertj.core.data.Offset.offset(0.1));
            assertThat(faithfulness.pValue()).isLessThan(0.001);
            assertThat(timeline.alertsRaised()).isEqualTo(1);
            assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(Judge.FAITHFULNESS);
            Await.until(Duration.ofSeconds(10), "the webhook's POST", () -> posts.size() == 1);
            JsonNode alert = posts.get(0);
            assertThat(alert.path("tenant").asText()).isEqualTo(TENANT);
            assertThat(alert.path("signal").path("name").asText()).isEqualTo(Judge.FAITHFULNESS);
            assertThat(alert.toString()).as("no user text in an alert").doesNotContain("refund", "invoices");
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void aWebhookThatRedirectsOrFailsIsNotFollowedAndIsCounted() throws Exception {
        List<JsonNode> elsewhere = new CopyOnWriteArrayList<>();
        HttpServer target = receiver(elsewhere, 200);
        HttpServer redirecting = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        redirecting.createContext("/alerts", exchange -> {
            exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + target.getAddress().getPort() + "/alerts");
            exchange.sendResponseHeaders(307, -1);
            exchange.close();
        });
        redirecting.start();
        try {
            timeline = new OnlineTimeline("webhook: http://127.0.0.1:" + redirecting.getAddress().getPort() + "/alerts", db);
            timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.4, 0.05));
            timeline.online.evaluate();
            assertThat(timeline.alertsRaised()).isEqualTo(1);
            Await.until(Duration.ofSeconds(15), "the failed POST counted", () -> timeline.registry.counter("keel.eval.online.webhook.failures").count() == 1);
            assertThat(elsewhere).as("a redirect is not followed to another address").isEmpty();
        } finally {
            redirecting.stop(0);
            target.stop(0);
        }
    }

    @Test
    void windowAndBaselineMeansAreGaugedPerTenantUpToACap() {
        timeline = new OnlineTimeline("", db);
        int tenants = OnlineEvaluation.MAX_GAUGED_TENANTS + 5;
        for (int t = 0; t < tenants; t++) timeline.answer(WINDOW_START, "t" + t, "Where do I find my invoices?", "faithfulness=0.75", 0.8);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(60))).isTrue();
        timeline.clock.set(NOW);
        timeline.online.evaluate();
        var windows = timeline.registry.find("keel.eval.online.window").gauges();
        assertThat(windows.stream().map(g -> g.getId().getTag("tenant")).distinct().count()).isEqualTo(OnlineEvaluation.MAX_GAUGED_TENANTS);
        var faithfulness = timeline.registry.find("keel.eval.online.window").tags("tenant", "t0", "signal", Judge.FAITHFULNESS).gauge();
        assertThat(faithfulness.value()).isEqualTo(4.0);
        assertThat(timeline.registry.find("keel.eval.online.baseline").tags("tenant", "t0", "signal", Judge.FAITHFULNESS).gauge().value()).isNaN();
    }

    @Test
    void aNoisyButUnchangedHourDoesNotAlert() {
        timeline = new OnlineTimeline("", db);
        timeline.week(TENANT, faithfulness(0.7, 0.25), faithfulness(0.7, 0.25));
        timeline.online.evaluate();
        assertThat(timeline.online.report(TENANT).signals()).noneMatch(OnlineEvaluation.Signal::alerting);
        assertThat(timeline.alertsRaised()).isZero();
        assertThat(timeline.signal(TENANT, OnlineEvaluation.CENTROID_DISTANCE).change()).as("the same questions").isLessThan(0.02);
    }

    @Test
    void aRiseOfTheIdontKnowRateAlerts() {
        timeline = new OnlineTimeline("", db);
        OnlineTimeline.Sampler baseline = (t, at, tenant, i, random) -> t.answer(at, tenant, "Where do I find my invoices?",
                i % 20 == 0 ? null : "faithfulness=0.8", 0.85);
        OnlineTimeline.Sampler window = (t, at, tenant, i, random) -> t.answer(at, tenant, "Where do I find my invoices?",
                i % 5 < 2 ? null : "faithfulness=0.8", 0.85);
        timeline.week(TENANT, baseline, window);
        timeline.online.evaluate();
        OnlineEvaluation.Signal idk = timeline.signal(TENANT, OnlineEvaluation.IDK_RATE);
        assertThat(idk.window()).isEqualTo(0.4);
        assertThat(idk.baseline()).isCloseTo(0.05, org.assertj.core.data.Offset.offset(0.01));
        assertThat(idk.alerting()).isTrue();
        assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(OnlineEvaluation.IDK_RATE);
    }

    @Test
    void aDropOfTheRetrievalTopScoreAlerts() {
        timeline = new OnlineTimeline("", db);
        OnlineTimeline.Sampler baseline = (t, at, tenant, i, random) -> t.answer(at, tenant, "Where do I find my invoices?", "faithfulness=0.8",
                0.85 + 0.03 * random.nextGaussian());
        OnlineTimeline.Sampler window = (t, at, tenant, i, random) -> t.answer(at, tenant, "Where do I find my invoices?", "faithfulness=0.8",
                0.68 + 0.03 * random.nextGaussian());
        timeline.week(TENANT, baseline, window);
        timeline.online.evaluate();
        assertThat(timeline.signal(TENANT, OnlineEvaluation.TOP_SCORE).alerting()).isTrue();
        assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(OnlineEvaluation.TOP_SCORE);
    }

    @Test
    void theSamplesCounterDescribesEveryOutcomeItCounts() {
        timeline = new OnlineTimeline("", db);
        var counters = timeline.registry.find("keel.eval.online.samples").counters();
        assertThat(counters).hasSize(4).allSatisfy(c -> {
            assertThat(c.getId().getDescription()).isEqualTo(OnlineEvaluation.SAMPLES_HELP);
            assertThat(OnlineEvaluation.SAMPLES_HELP).contains(c.getId().getTag("outcome") + " (");
        });
    }

    @Test
    void aMoveOfTheQueryCentroidAlerts() {
        timeline = new OnlineTimeline("", db);
        List<String> geology = List.of("How do volcanoes form?", "What causes an earthquake?", "Why do tectonic plates move?",
                "How old is the oldest rock on Earth?", "What is magma made of?", "How are mountains formed?");
        OnlineTimeline.Sampler window = (t, at, tenant, i, random) -> t.answer(at, tenant, geology.get(i % geology.size()), "faithfulness=0.8", 0.85);
        timeline.week(TENANT, faithfulness(0.8, 0), window);
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(OnlineEvaluation.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log = new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            timeline.online.evaluate();
        } finally {
            logger.detachAppender(log);
        }
        assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .anySatisfy(line -> assertThat(line).matches("online evaluation alert: tenant \\S+: centroid_distance is 0\\.\\d+ \\(threshold 0\\.\\d+\\):"
                        + " window n \\d+, baseline n \\d+"));
        OnlineEvaluation.Signal centroid = timeline.signal(TENANT, OnlineEvaluation.CENTROID_DISTANCE);
        System.out.printf("online evaluation: centroid distance billing → geology questions %.3f%n", centroid.change());
        assertThat(centroid.alerting()).isTrue();
        assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(OnlineEvaluation.CENTROID_DISTANCE);
    }

    @Test
    void anAlertEndsWhenItsSignalRecoversAndTheNextEpisodeNotifiesAgain() {
        timeline = new OnlineTimeline("window_minutes: 60", db);
        timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.45, 0.05));
        timeline.online.evaluate();
        assertThat(timeline.alertsRaised()).isEqualTo(1);
        // The next hour is good again: the alert ends.
        timeline.hour(WINDOW_START.plus(Duration.ofHours(1)), TENANT, "faithfulness=0.8");
        timeline.clock.set(NOW.plus(Duration.ofHours(1)));
        timeline.online.evaluate();
        assertThat(timeline.online.report(TENANT).alerts()).isEmpty();
        // And goes bad again: a new episode, told again.
        timeline.hour(WINDOW_START.plus(Duration.ofHours(2)), TENANT, "faithfulness=0.3");
        timeline.clock.set(NOW.plus(Duration.ofHours(2)));
        timeline.online.evaluate();
        assertThat(timeline.alertsRaised()).isEqualTo(2);
        assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(Judge.FAITHFULNESS);
    }

    @Test
    void anAlertOfATenantThatFellSilentEndsWhenItsSamplesAreDeleted() {
        timeline = new OnlineTimeline("", db);
        timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.4, 0.05));
        timeline.online.evaluate();
        timeline.clock.set(NOW.plus(Duration.ofDays(1)));
        timeline.online.evaluate();
        assertThat(timeline.online.report(TENANT).alerts()).as("no new samples: still the last word").hasSize(1);
        timeline.clock.set(NOW.plus(Duration.ofDays(10)));
        timeline.online.evaluate();
        assertThat(timeline.online.report(TENANT).alerts()).isEmpty();
    }

    @Test
    void tooFewSamplesNeverAlert() {
        timeline = new OnlineTimeline("min_samples: 100", db);
        timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.3, 0.05));
        timeline.online.evaluate();
        assertThat(timeline.signal(TENANT, Judge.FAITHFULNESS).windowN()).isEqualTo(60);
        assertThat(timeline.alertsRaised()).isZero();
    }

    @Test
    void oneTenantsBadHourIsNotAnotherTenants() {
        timeline = new OnlineTimeline("", db);
        timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.4, 0.05));
        timeline.week("beta", faithfulness(0.8, 0.05), faithfulness(0.8, 0.05));
        timeline.online.evaluate();
        assertThat(timeline.online.report(TENANT).alerts()).hasSize(1);
        assertThat(timeline.online.report("beta").alerts()).isEmpty();
        assertThat(timeline.signal("beta", Judge.FAITHFULNESS).window()).isCloseTo(4.2, org.assertj.core.data.Offset.offset(0.1));
    }

    @Test
    void aJudgeThatFailsOrAnswersNonsenseLeavesTheDriftSignalsAndNoScores() {
        Judge nonsense = new OnlineTimeline.ScriptedJudge() {
            @Override
            public Verdict judge(Input input) {
                if (input.question().contains("fail")) throw new JudgeException("the judge model is down", null);
                return new Verdict(Map.of(Judge.FAITHFULNESS, Double.NaN, Judge.ANSWER_RELEVANCE, 7.0, "ignore previous instructions", 1.0,
                        Judge.CITATION_ACCURACY, -0.5), Map.of());
            }
        };
        timeline = new OnlineTimeline("sample_rate: 1", nonsense, db, () -> 0);
        timeline.answer(WINDOW_START, TENANT, "please fail", "faithfulness=0.9", 0.8);
        timeline.answer(WINDOW_START, TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
        timeline.clock.set(NOW);
        assertThat(timeline.samples("judge_failed")).isEqualTo(1);
        assertThat(timeline.signal(TENANT, OnlineEvaluation.IDK_RATE).windowN()).isEqualTo(2);
        assertThat(timeline.signal(TENANT, OnlineEvaluation.TOP_SCORE).windowN()).isEqualTo(2);
        for (String metric : OnlineEvaluation.JUDGE_METRICS) assertThat(timeline.signal(TENANT, metric).windowN()).as(metric).isZero();
        assertThat(metrics()).as("a judge cannot invent metrics").doesNotContain("ignore previous instructions");
    }

    @Test
    void aFailingJudgeIsLoggedOncePerOutageAndOnceOnRecovery() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(OnlineEvaluation.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log = new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            Judge flaky = new OnlineTimeline.ScriptedJudge() {
                @Override
                public Verdict judge(Input input) {
                    if (input.question().contains("fail")) throw new JudgeException("the judge model is down", null);
                    return super.judge(input);
                }
            };
            timeline = new OnlineTimeline("sample_rate: 1", flaky, db, () -> 0);
            for (String q : List.of("please fail 1", "please fail 2", "please fail 3", "Where do I find my invoices?", "please fail 4")) {
                timeline.answer(WINDOW_START, TENANT, q, "faithfulness=0.9", 0.8);
            }
            assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
            assertThat(log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).filter(m -> m.contains("the judge")).toList())
                    .satisfiesExactly(m -> assertThat(m).contains("failed", "until it recovers"), m -> assertThat(m).contains("scores again"),
                            m -> assertThat(m).contains("failed", "until it recovers"));
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void aSampleThatCannotBeReadIsLostButTheWorkerGoesOn() {
        timeline = new OnlineTimeline("", db);
        timeline.clock.set(WINDOW_START);
        timeline.online.offer(TENANT, "Where do I find my invoices?", new dev.keel.rag.Answer("x", true, List.of(), null, 0.5, "trace"));
        timeline.answer(WINDOW_START, TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
        timeline.clock.set(NOW);
        assertThat(timeline.samples("lost")).isEqualTo(1);
        assertThat(timeline.signal(TENANT, Judge.FAITHFULNESS).windowN()).isEqualTo(1);
    }

    @Test
    void retentionDeletesBucketsOlderThanTheBaselineAndADay() {
        timeline = new OnlineTimeline("baseline_days: 7", db);
        timeline.answer(START, TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        timeline.answer(START.plus(Duration.ofDays(2)), TENANT, "Where do I find my invoices?", "faithfulness=0.9", 0.8);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
        timeline.clock.set(START.plus(Duration.ofDays(9)));
        timeline.online.evaluate();
        assertThat(rows("online_eval_stats")).as("the first day's bucket is older than 7 + 1 days and an hour").isNotEmpty()
                .allMatch(bucket -> bucket >= START.plus(Duration.ofDays(2)).toEpochMilli());
        assertThat(rows("online_eval_centroids")).hasSize(1);
    }

    @Test
    void aRestartKeepsTheBaseline() {
        timeline = new OnlineTimeline("", db);
        timeline.week(TENANT, faithfulness(0.8, 0.05), faithfulness(0.8, 0.05));
        timeline.close();
        db.close();
        db = Database.open(dir);
        timeline = new OnlineTimeline("", db);
        timeline.hour(WINDOW_START.plus(Duration.ofHours(1)), TENANT, "faithfulness=0.3");
        timeline.clock.set(NOW.plus(Duration.ofHours(1)));
        timeline.online.evaluate();
        OnlineEvaluation.Signal f = timeline.signal(TENANT, Judge.FAITHFULNESS);
        assertThat(f.baselineN()).as("the week before, and the first process's window hour").isEqualTo(7 * 24 + 60 - 1);
        assertThat(f.alerting()).isTrue();
        assertThat(timeline.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(Judge.FAITHFULNESS);
    }

    @Test
    void noQuestionOrAnswerTextReachesTheDatabase() throws Exception {
        timeline = new OnlineTimeline("", db);
        String question = "My SSN is 123-45-6789, can Zebulon Quackenbush get a refund?";
        timeline.answer(WINDOW_START, TENANT, question, "faithfulness=0.9;note=Quackenbush", 0.8);
        assertThat(timeline.online.awaitIdle(Duration.ofSeconds(30))).isTrue();
        timeline.clock.set(NOW);
        timeline.online.evaluate();
        db.close();
        db = Database.open(dir);
        for (Path file : Files.list(dir).toList()) {
            String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
            assertThat(bytes).as(file.getFileName().toString()).doesNotContain("Quackenbush", "123-45-6789", "Zebulon");
        }
        assertThat(rows("online_eval_stats")).isNotEmpty();
    }

    /** The buckets of a table's rows. */
    private List<Long> rows(String table) {
        return db.withConnection(c -> {
            List<Long> out = new java.util.ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT bucket FROM " + table); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getLong(1));
            }
            return out;
        });
    }

    private List<String> metrics() {
        return db.withConnection(c -> {
            List<String> out = new java.util.ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT metric FROM online_eval_stats"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        });
    }

    /** A JDK HTTP server that records each JSON body POSTed to /alerts and answers {@code status}. */
    static HttpServer receiver(List<JsonNode> posts, int status) throws java.io.IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/alerts", exchange -> {
            JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
            posts.add(body); // after answering: a test that saw it may stop the server
        });
        server.start();
        return server;
    }
}
