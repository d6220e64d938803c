package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.Keel;
import dev.keel.gateway.FakeLlmServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pairwise comparison asks in both orders, so a judge's taste for a position cancels out. */
class PairwiseJudgeTest {
    private static JudgeServer server;
    private static FakeLlmServer upstream;
    private static PairwiseJudge pairwise;

    @BeforeAll
    static void start() throws Exception {
        server = new JudgeServer();
        upstream = server.upstream;
        pairwise = new PairwiseJudge(server.keel.gateway(), server.keel.traces(), "judge", null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    private static EvalRun run(List<String> answers) {
        List<EvalRun.ExampleResult> examples = new ArrayList<>();
        for (int i = 0; i < answers.size(); i++) {
            examples.add(new EvalRun.ExampleResult("q" + i, "dev", List.of(), "fp", "Question " + i + "?", null, answers.get(i), true, null, List.of(),
                    List.of(), Map.of(), Map.of(), null));
        }
        return new EvalRun(EvalRun.FORMAT, "r", Instant.EPOCH, 1, null, null, null, List.of(), Map.of(), Map.of(), examples);
    }

    @Test
    void aJudgeThatAlwaysPrefersPositionAProducesOnlyTies() {
        upstream.then(FakeLlmServer.ok("{\"winner\": \"A\", \"reason\": \"first is best\"}"));
        PairwiseJudge.Report r = pairwise.compare(Keel.DEFAULT_TENANT, run(List.of("one.", "two.", "three.")), run(List.of("uno, longer.", "dos.", "tres.")),
                Integer.MAX_VALUE, 1);
        assertThat(r.ties()).isEqualTo(3);
        assertThat(r.wins() + r.losses()).isZero();
        assertThat(r.winRate()).isEqualTo(0.5);
        assertThat(r.comparisons().get(0).comparison().reason()).contains("disagree");
        assertThat(upstream.received).hasSize(6);
    }

    @Test
    void aJudgeThatPrefersTheLongerAnswerCountsWinsAndLosses() {
        upstream.then(FakeLlmServer.okFrom(req -> {
            String a = JudgeServer.tagged(req, "answer-a"), b = JudgeServer.tagged(req, "answer-b");
            return "{\"winner\": \"" + (a.length() >= b.length() ? "A" : "B") + "\", \"reason\": \"longer\"}";
        }));
        PairwiseJudge.Report r = pairwise.compare(Keel.DEFAULT_TENANT, run(List.of("short.", "short.", "a much longer base answer.")),
                run(List.of("a much longer candidate.", "also a longer candidate.", "tiny.")), Integer.MAX_VALUE, 1);
        assertThat(List.of(r.wins(), r.losses(), r.ties())).containsExactly(2, 1, 0);
        assertThat(r.winRate()).isCloseTo(2 / 3.0, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(r.ciLow()).isLessThanOrEqualTo(r.winRate());
        assertThat(r.ciHigh()).isGreaterThanOrEqualTo(r.winRate());
    }

    @Test
    void identicalAnswersTieWithoutACallAndTheLimitIsHonoured() {
        PairwiseJudge.Report r = pairwise.compare(Keel.DEFAULT_TENANT, run(List.of("same.", "same too.", "x")), run(List.of("same.", "same too.", "y")), 2, 1);
        assertThat(r.n()).isEqualTo(2);
        assertThat(r.ties()).isEqualTo(2);
        assertThat(upstream.received).isEmpty();
    }

    @Test
    void bothOrdersCarryTheSameRubricAndSwapTheAnswers() {
        upstream.then(FakeLlmServer.ok("{\"winner\": \"tie\", \"reason\": \"same\"}"));
        pairwise.compare(Keel.DEFAULT_TENANT, "Q?", null, "base answer", "candidate answer");
        JsonNode first = upstream.received.get(0).body(), second = upstream.received.get(1).body();
        assertThat(first.path("temperature").asDouble(-1)).isZero();
        assertThat(first.path("messages").path(0)).isEqualTo(second.path("messages").path(0));
        assertThat(JudgeServer.tagged(first, "answer-a")).isEqualTo("base answer");
        assertThat(JudgeServer.tagged(second, "answer-a")).isEqualTo("candidate answer");
    }
}
