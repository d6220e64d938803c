package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.IndexConfig;
import dev.keel.config.SearchConfig;
import dev.keel.engines.SolrCloud;
import dev.keel.trace.Traces;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Losing one of two Solr nodes: the index keeps answering and writing through the other (each tenant's shard has a copy there). */
class SolrFailoverTest {
    /** Solr elects a new leader for the shards the stopped node led; a few seconds, far more on a loaded machine. */
    private static final long RECOVERY_SECONDS = 120;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static SolrCloud cloud;
    private static SolrChunkIndex index;
    private final Traces traces = new Traces();

    @BeforeAll
    static void startSolr() {
        cloud = SolrCloud.start();
        index = new SolrChunkIndex(new IndexConfig(IndexConfig.Kind.SOLR, cloud.nodeUrls(), "failover", 2, 10_000), "m1", 8);
    }

    @AfterAll
    static void stopSolr() {
        if (index != null) index.close();
        if (cloud != null) cloud.close();
    }

    @Test
    void aStoppedNodeLeavesSearchesAndWritesToTheOther() {
        SolrChunkIndexTest.put(index, "ha", "before", "v1", "written while both nodes ran");
        cloud.stopNode(0);
        List<SearchHit> hits = awaitSuccess(() -> search("written nodes"));
        assertThat(hits).extracting(h -> h.chunk().docId()).containsExactly("before");
        awaitSuccess(() -> {
            SolrChunkIndexTest.put(index, "ha", "after", "v1", "written with one node down");
            return true;
        });
        assertThat(search("written node down")).extracting(h -> h.chunk().docId()).contains("after", "before");
        assertThat((List<?>) index.health().get("live_nodes")).hasSize(1);
    }

    private List<SearchHit> search(String q) {
        SearchRequest r = new SearchRequest("ha", q, null, SearchMode.BM25, 10, SearchConfig.DEFAULTS, SearchFilters.NONE, false);
        return index.search(r, traces.start("t", "ha")).hits();
    }

    /** The first result {@code work} gives without an IndexException, retried while Solr recovers. */
    private static <T> T awaitSuccess(Supplier<T> work) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(RECOVERY_SECONDS);
        while (true) {
            try {
                return work.get();
            } catch (IndexException e) {
                if (System.nanoTime() > until) throw e;
                LockSupport.parkNanos(POLL_NANOS);
            }
        }
    }
}
