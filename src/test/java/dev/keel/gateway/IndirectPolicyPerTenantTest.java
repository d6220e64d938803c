package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.guard.TestGuards;
import dev.keel.index.SearchFilters;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code indirect.policy} per tenant: a tenant whose policy excludes flagged chunks never gets them; the others get them wrapped or trimmed. */
class IndirectPolicyPerTenantTest {
    private static final String QUESTION = "Where is the admin console reachable from?";
    private static Keel keel;

    @BeforeAll
    static void start() throws Exception {
        keel = Keel.open(KeelConfig.parse("""
                ingest: {chunking: {min_tokens: 0}}
                guard:
                  indirect: {policy: wrap}
                  tenants: {locked: {indirect: {policy: exclude}}}
                cache: {exact: {enabled: false}, semantic: {enabled: false}}
                """, k -> null), Files.createTempDirectory("keel-indirect-tenants-"), TestGuards.flagging());
        for (String tenant : List.of("open", "locked")) {
            keel.ingestor().ingest(tenant, GroundedAnswersTest.markdown("policy", IndirectInjectionTest.POLICY), keel.traces().start("ingest", tenant));
        }
    }

    @AfterAll
    static void stop() {
        keel.close();
    }

    private static Answer answer(String tenant) {
        return keel.answers().answer(new AnswerRequest(tenant, QUESTION, SearchFilters.NONE, "extractive", null), keel.traces().start("answer", tenant));
    }

    @Test
    void aTenantWhosePolicyExcludesFlaggedChunksNeverGetsThemAndAnotherTenantStillDoes() {
        Answer locked = answer("locked");
        Answer open = answer("open");

        assertThat(locked.sources()).noneSatisfy(h -> assertThat(h.chunk().injection().flagged()).isTrue());
        assertThat(locked.text()).doesNotContain("office network");
        assertThat(open.sources()).anySatisfy(h -> assertThat(h.chunk().injection().flagged()).isTrue());
        assertThat(open.text()).contains("office network").doesNotContain("admin password");
    }
}
