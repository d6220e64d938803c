package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.embed.CountingEmbedder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Topic scope with the real in-process embedding model: in-scope paraphrases pass, unrelated requests get a polite refusal. */
class TopicScopeTest {
    private static final BgeSmallEmbedder EMBEDDER = new BgeSmallEmbedder(1);
    private static final GuardConfig SCOPED = TestGuards.withTopics(GuardConfig.DEFAULTS, List.of(
            new GuardConfig.Topic("billing", "invoices, payments, refunds, subscription plans and prices"),
            new GuardConfig.Topic("shipping", "delivery times, tracking parcels, shipping costs and returns")));

    @AfterAll
    static void close() {
        EMBEDDER.close();
    }

    private static GuardResult check(Guard guard, String text, Guard.Direction direction) {
        return guard.check(text, direction, GuardConfig.Profile.STRICT, new Redaction());
    }

    @Test
    void paraphrasesOfAnAllowedTopicPass() {
        Guard guard = Guard.create(SCOPED, EMBEDDER);

        for (String q : List.of("how do i get my money back for an order", "Where is my package? It has not arrived yet.",
                "Why was I charged twice on my last invoice?")) {
            GuardResult r = check(guard, q, Guard.Direction.INPUT);
            assertThat(r.verdict()).as(q).isInstanceOf(GuardVerdict.Allow.class);
            assertThat(r.signals()).as(q).anySatisfy(s -> assertThat(s.layer()).isEqualTo("topic"));
        }
    }

    @Test
    void anUnrelatedQuestionIsRefusedPolitelyNamingTheAllowedTopics() {
        Guard guard = Guard.create(SCOPED, EMBEDDER);

        GuardResult r = check(guard, "Give me a recipe for lasagna", Guard.Direction.INPUT);

        GuardVerdict.Block block = (GuardVerdict.Block) r.verdict();
        assertThat(block.code()).isEqualTo("off_topic");
        assertThat(block.message()).startsWith("Sorry").contains("billing or shipping").contains("Please ask a question about");
        assertThat(r.categories()).containsExactly("off_topic");
        GuardSignal topic = r.signals().stream().filter(s -> s.layer().equals("topic")).findFirst().orElseThrow();
        assertThat(topic.score()).isLessThan(SCOPED.topics().threshold());
        assertThat(topic.category()).isIn("billing", "shipping");
    }

    @Test
    void toolResultsAndEarlierAssistantTurnsAreNotHeldToTheTopics() {
        Guard guard = Guard.create(SCOPED, EMBEDDER);

        assertThat(guard.checkUntrusted("Weather in Paris: 18 degrees and sunny.", GuardConfig.Profile.STRICT, new Redaction()).verdict())
                .isInstanceOf(GuardVerdict.Allow.class);
        assertThat(check(guard, "Weather in Paris: 18 degrees and sunny.", Guard.Direction.INPUT).verdict()).isInstanceOf(GuardVerdict.Block.class);
    }

    @Test
    void repliesAreNotHeldToTheTopics() {
        Guard guard = Guard.create(SCOPED, EMBEDDER);

        assertThat(check(guard, "Here is a recipe for lasagna.", Guard.Direction.OUTPUT).verdict()).isInstanceOf(GuardVerdict.Allow.class);
    }

    @Test
    void withoutAnAllowListNothingIsEmbedded() {
        Guard guard = Guard.create(GuardConfig.DEFAULTS, new CountingEmbedder(EMBEDDER) {
            @Override
            public float[] embedQuery(String query) {
                throw new AssertionError("no topics: nothing to compare with");
            }
        });

        assertThat(check(guard, "Give me a recipe for lasagna", Guard.Direction.INPUT).verdict()).isInstanceOf(GuardVerdict.Allow.class);
    }

    @Test
    void topicVectorsAreComputedOnceAcrossConcurrentRequests() throws Exception {
        CountingEmbedder counting = new CountingEmbedder(EMBEDDER);
        Guard guard = Guard.create(SCOPED, counting);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<GuardResult>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) results.add(pool.submit(() -> check(guard, "Can I pay with a credit card?", Guard.Direction.INPUT)));
            for (Future<GuardResult> f : results) assertThat(f.get(60, TimeUnit.SECONDS).verdict()).isInstanceOf(GuardVerdict.Allow.class);
        } finally {
            pool.shutdownNow();
        }
        assertThat(counting.documentCalls.get()).isEqualTo(1);
    }

    @Test
    void aHugeRequestIsComparedByItsBeginning() {
        CountingEmbedder counting = new CountingEmbedder(EMBEDDER);
        Guard guard = Guard.create(SCOPED, counting);

        GuardResult r = check(guard, "Where is my parcel? ".repeat(50_000) + "\uD83D\uDE00", Guard.Direction.INPUT);

        assertThat(r.verdict()).isInstanceOf(GuardVerdict.Allow.class);
        assertThat(counting.longestQuery.get()).isLessThanOrEqualTo(TopicScope.MAX_CHARS);
    }
}
