package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig.Tier;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The default classifier reads length, questions, cues, code, tools and schemas in any language, and the same request always routes the same way. */
class RuleBasedClassifierTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ComplexityClassifier classifier = new RuleBasedClassifier();

    private static ObjectNode ask(String text) {
        ObjectNode request = JSON.createObjectNode().put("model", "auto");
        request.putArray("messages").addObject().put("role", "user").put("content", text);
        return request;
    }

    private ComplexityClassifier.Classification classify(String text) {
        return classifier.classify(ask(text));
    }

    @Test
    void aShortFactualQuestionIsSmallInAnyLanguage() {
        for (String q : new String[] {"What is the capital of France?", "¿Cuál es la capital de Francia?", "Quelle est la capitale de la France ?",
                "法国的首都是哪里？", "フランスの首都はどこですか？", "Какая столица Франции?"}) {
            assertThat(classify(q).tier()).as(q).isEqualTo(Tier.SMALL);
            assertThat(classify(q).reason()).as(q).isEqualTo("short-simple");
        }
    }

    @Test
    void requestsForReasoningAndComparisonClimbInLanguagesOtherThanEnglish() {
        assertThat(classify("Warum ist der Himmel blau? Erkläre es Schritt für Schritt und vergleiche es mit dem Sonnenuntergang.").tier())
                .isEqualTo(Tier.MEDIUM);
        assertThat(classify("比较 PostgreSQL 和 MySQL 的优缺点，分析它们在高并发写入下的表现，并解释为什么。").tier()).isGreaterThanOrEqualTo(Tier.MEDIUM);
        assertThat(classify("なぜ空は青いのですか？理由を説明してください。").reason()).startsWith("reasoning");
        assertThat(classify("Compara PostgreSQL y MySQL: ventajas y desventajas, y explica por qué elegirías uno.").tier()).isEqualTo(Tier.MEDIUM);
    }

    @Test
    void anAskForAnEssaySizedAnalysisIsLarge() {
        String essay = "We run a multi-tenant SaaS on PostgreSQL. Compare row-level security with a schema per tenant, explain the trade-offs"
                + " for migrations, noisy neighbours and backups, analyse what breaks at 10,000 tenants, and justify a recommendation."
                + " Include a migration plan from our current shared tables, the risks at each stage, how we would verify isolation"
                + " with tests, and what we would monitor afterwards. We have two engineers and one quarter, so weigh effort too.";
        ComplexityClassifier.Classification c = classify(essay);
        assertThat(c.tier()).isEqualTo(Tier.LARGE);
        assertThat(c.reason()).startsWith("reasoning");
        assertThat(c.features()).containsEntry("questions", 0L).containsKey("ask_tokens");
    }

    @Test
    void codeIsRecognisedWithOrWithoutFencesAndNeedsAtLeastTheMediumTier() {
        ComplexityClassifier.Classification fenced = classify("Fix this:\n```js\nconst x = y.map(z => z + 1)\n```");
        assertThat(fenced.tier()).isEqualTo(Tier.MEDIUM);
        assertThat(fenced.reason()).isEqualTo("code");
        assertThat(classify("def total(items):\n    for i in items:\n        s += i\n    return s\nwhat is wrong here?").reason()).contains("code");
        assertThat(classify("int main() {\n  int x = 0;\n  printf(\"%d\", x);\n}").reason()).contains("code");
        assertThat(classify("I had eggs; then toast.").features()).containsEntry("code", 0L);
    }

    @Test
    void toolsAndLargeSchemasNeedAtLeastTheMediumTier() throws Exception {
        ObjectNode withTools = ask("What's the weather in Paris?");
        withTools.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "weather");
        assertThat(classifier.classify(withTools).tier()).isEqualTo(Tier.MEDIUM);
        assertThat(classifier.classify(withTools).reason()).isEqualTo("tools");

        ObjectNode schema = ask("Extract the invoice.");
        ObjectNode properties = schema.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "invoice")
                .putObject("schema").put("type", "object").putObject("properties");
        for (int i = 0; i < 10; i++) properties.putObject("field" + i).put("type", "string");
        assertThat(classifier.classify(schema).tier()).isEqualTo(Tier.MEDIUM);
        assertThat(classifier.classify(schema).reason()).isEqualTo("json-schema");
    }

    @Test
    void severalQuestionsCountButAQuestionMarkInsideAUrlDoesNot() {
        assertThat(classify("Where is it? When does it open? How much is it? Can I park there?").features()).containsEntry("questions", 4L);
        assertThat(classify("Open https://example.com/search?q=keel&page=2 and summarise it.").features()).containsEntry("questions", 0L);
        assertThat(classify("これは何？あれは何？").features()).containsEntry("questions", 2L);
    }

    @Test
    void aCueInsideAnotherWordIsNotACue() {
        assertThat(classify("Is the show on Friday?").features()).containsEntry("reasoning_cues", 0L);
        assertThat(classify("Show me the reasoning.").features()).containsEntry("reasoning_cues", 0L);
    }

    @Test
    void theSameRequestIsAlwaysClassifiedTheSameWay() {
        String q = "Compare Kafka and RabbitMQ for event sourcing and explain why.";
        assertThat(classify(q)).isEqualTo(classify(q));
    }

    @Test
    void aHugePromptIsClassifiedInBoundedTime() {
        String huge = "why compare explain? ".repeat(250_000) + "```";
        ComplexityClassifier.Classification c = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> classify(huge));
        assertThat(c.tier()).isEqualTo(Tier.LARGE);
        assertThat(c.features().get("questions")).isLessThanOrEqualTo(50L);
    }
}
