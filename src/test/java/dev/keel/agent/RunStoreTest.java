package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.config.StoreConfig;
import dev.keel.engines.PostgresServer;
import dev.keel.store.Database;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The run store on both dialects: one writer per seq, and on a shared database one replica per interrupted run. */
class RunStoreTest {
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();
    private static final long NOW = 1_800_000_000_000L;

    static RunEvent event(int seq, RunEvent.Type type, long at) {
        return new RunEvent(seq, type, JsonNodeFactory.instance.objectNode().put("task", "t"), 0, 0, at);
    }

    static void create(RunStore store, String id, String owner) {
        store.create(new RunStore.Row(id, "acme", "support", null, null, RunStatus.RUNNING), event(0, RunEvent.Type.PLAN, NOW), owner);
    }

    /** Twenty writers race to append event 1 of one run: exactly one succeeds, and the log holds its event. */
    static void exactlyOneWriterAppendsEachSeq(Database db) throws Exception {
        RunStore store = new RunStore(db);
        create(store, "run_race", "a");
        List<Callable<Boolean>> writers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String owner = "w" + i;
            writers.add(() -> store.append("run_race", event(1, RunEvent.Type.RESUMED, NOW + 1), RunStatus.RUNNING, owner));
        }
        List<Object> results = AgentLoopTest.concurrently(writers);
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(Boolean.FALSE::equals).hasSize(19);
        assertThat(store.events("run_race")).extracting(RunEvent::seq).containsExactly(0, 1);
    }

    @Test
    void onSqliteExactlyOneWriterAppendsEachSeq() throws Exception {
        try (Database db = Database.open(Files.createTempDirectory("keel-runs-"))) {
            exactlyOneWriterAppendsEachSeq(db);
        }
    }

    @Test
    void onPostgresExactlyOneWriterAppendsEachSeq() throws Exception {
        try (Database db = Database.open(POSTGRES.server().storeConfig(), Path.of("unused"))) {
            exactlyOneWriterAppendsEachSeq(db);
        }
    }

    @Test
    void onASharedDatabaseAReplicaResumesARunOnlyOnceItsLeaseExpiredAndOnlyOneReplicaClaimsIt() {
        StoreConfig config = POSTGRES.server().storeConfig();
        try (Database one = Database.open(config, Path.of("unused")); Database two = Database.open(config, Path.of("unused"))) {
            RunStore a = new RunStore(one), b = new RunStore(two);
            create(a, "run_leased", "replica-a");
            assertThat(b.claimInterrupted("replica-b", NOW + 1_000)).isEmpty();
            long expired = NOW + RunStore.LEASE.toMillis() + 1;
            assertThat(b.claimInterrupted("replica-b", expired)).containsExactly("run_leased");
            assertThat(a.claimInterrupted("replica-a", expired)).isEmpty();
        }
    }

    @Test
    void withTheEmbeddedStoreEveryRunningRunIsResumedWhateverItsLease() throws Exception {
        try (Database db = Database.open(Files.createTempDirectory("keel-runs-"))) {
            RunStore store = new RunStore(db);
            create(store, "run_left", "gone");
            create(store, "run_done", "gone");
            store.append("run_done", event(1, RunEvent.Type.FINAL, NOW + 1), RunStatus.COMPLETED, "gone");
            assertThat(store.claimInterrupted("next", NOW + 1)).containsExactly("run_left");
        }
    }
}
