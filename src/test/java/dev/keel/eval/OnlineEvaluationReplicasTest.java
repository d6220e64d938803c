package dev.keel.eval;

import static dev.keel.eval.OnlineTimeline.NOW;
import static dev.keel.eval.OnlineTimeline.START;
import static dev.keel.eval.OnlineTimeline.WINDOW_START;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.StoreConfig;
import dev.keel.engines.PostgresServer;
import dev.keel.store.Database;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two replicas sharing PostgreSQL pool their samples into one window and one baseline, and raise an alert once between them. */
class OnlineEvaluationReplicasTest {
    private static final Path NO_DATA_DIR = Path.of("unused");
    private static final String TENANT = "acme";
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();
    private Database db1, db2;
    private OnlineTimeline replica1, replica2;

    @AfterEach
    void close() {
        for (AutoCloseable c : new AutoCloseable[] {replica1, replica2, db1, db2}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void replicasPoolTheirSamplesAndAlertOnceBetweenThem() {
        StoreConfig store = POSTGRES.server().storeConfig();
        db1 = Database.open(store, NO_DATA_DIR);
        db2 = Database.open(store, NO_DATA_DIR);
        replica1 = new OnlineTimeline("", db1);
        replica2 = new OnlineTimeline("", db2);
        // The baseline week: replica 1 takes the even hours, replica 2 the odd ones; then the bad hour, minute by minute in turn.
        for (int h = 0; h < 7 * 24; h++) {
            (h % 2 == 0 ? replica1 : replica2).answer(START.plus(Duration.ofMinutes(60L * h + 30)), TENANT,
                    OnlineTimeline.BILLING.get(h % OnlineTimeline.BILLING.size()), "faithfulness=" + (h % 3 == 0 ? 0.75 : 0.85), 0.85);
        }
        for (int m = 0; m < 60; m++) {
            (m % 2 == 0 ? replica1 : replica2).answer(WINDOW_START.plus(Duration.ofMinutes(m)), TENANT,
                    OnlineTimeline.BILLING.get(m % OnlineTimeline.BILLING.size()), "faithfulness=" + (m % 3 == 0 ? 0.35 : 0.45), 0.85);
        }
        assertThat(replica1.online.awaitIdle(Duration.ofSeconds(60))).isTrue();
        assertThat(replica2.online.awaitIdle(Duration.ofSeconds(60))).isTrue();
        replica1.clock.set(NOW);
        replica2.clock.set(NOW);

        OnlineEvaluation.Signal seenBy1 = replica1.signal(TENANT, Judge.FAITHFULNESS), seenBy2 = replica2.signal(TENANT, Judge.FAITHFULNESS);
        assertThat(seenBy1.windowN()).isEqualTo(60);
        assertThat(seenBy1.baselineN()).isEqualTo(7 * 24);
        assertThat(seenBy2).isEqualTo(seenBy1);
        assertThat(replica2.signal(TENANT, OnlineEvaluation.CENTROID_DISTANCE).change()).as("both replicas' vectors in each centroid").isLessThan(0.02);

        replica1.online.evaluate();
        replica2.online.evaluate();
        replica1.online.evaluate();
        assertThat(replica1.alertsRaised() + replica2.alertsRaised()).as("one episode, told by one replica").isEqualTo(1);
        assertThat(replica2.online.report(TENANT).alerts()).extracting(OnlineEvaluation.Alert::signal).containsExactly(Judge.FAITHFULNESS);
    }
}
