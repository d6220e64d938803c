package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.embed.HashingEmbedder;
import dev.keel.engines.Await;
import dev.keel.engines.SolrCloud;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchRequest;
import dev.keel.index.SolrChunkIndex;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.SourceDocument;
import dev.keel.config.SearchConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel reindex} on a real two-node SolrCloud: a chunking change rebuilt under live searches and writes, a killed run, the CLI's refusals. */
class ReindexCommandTest {
    private static final String TENANT = "docs";
    /** A word only the document written during the build holds, so its chunks are told apart from both generations' rebuilt ones. */
    private static final String DURING_BUILD = "zeppelin";
    private static final List<String> WORDS = List.of("refund", "policy", "invoice", "shipping", "warranty", "account", "password", "delivery",
            "customer", "support", "billing", "return", "order", "payment", "address", "tracking", "discount", "coupon", "holiday", "office");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SolrCloud cloud;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startSolr() {
        cloud = SolrCloud.start();
    }

    @AfterAll
    static void stopSolr() {
        if (cloud != null) cloud.close();
    }

    private static String yaml(String prefix, int maxTokens) {
        return """
                index:
                  kind: solr
                  solr: {urls: [%s], collection_prefix: %s}
                ingest:
                  chunking: {strategy: fixed, max_tokens: %d, overlap_tokens: 0}
                """.formatted(String.join(", ", cloud.nodeUrls()), prefix, maxTokens);
    }

    private static KeelConfig config(String prefix, int maxTokens) {
        return KeelConfig.parse(yaml(prefix, maxTokens), k -> null);
    }

    /** {@code count} Markdown files of {@code words} words each, from a seeded vocabulary. */
    private static Path sources(String name, int count, int words) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(name));
        Random random = new Random(count * 31L + words);
        for (int f = 0; f < count; f++) {
            StringBuilder text = new StringBuilder("# Document " + f + "\n\n");
            for (int w = 0; w < words; w++) text.append(WORDS.get(random.nextInt(WORDS.size()))).append(w % 12 == 11 ? ". " : " ");
            Files.writeString(folder.resolve("doc-" + f + ".md"), text.toString());
        }
        return folder;
    }

    private static Set<String> bodies(Keel keel) {
        Set<String> out = new HashSet<>();
        for (DocumentRecord d : keel.index().documents(TENANT, 0, 1000)) keel.index().chunks(TENANT, d.docId()).forEach(c -> out.add(c.body()));
        return out;
    }

    private static List<String> search(Keel keel, String query) {
        SearchRequest req = new SearchRequest(TENANT, query, keel.embedder().embedQuery(query), SearchMode.HYBRID, 10, SearchConfig.DEFAULTS,
                SearchFilters.NONE, false);
        return keel.index().search(req, keel.traces().start("search", TENANT)).hits().stream().map(SearchHit::chunk).map(ChunkRecord::body).toList();
    }

    @Test
    void searchesDuringAReindexSeeOneWholeGenerationAndTheNewChunkingServesAfterTheSwap() throws Exception {
        Path folder = sources("chunking", 8, 700);
        try (Keel live = Keel.open(config("rx", 400), dir.resolve("live"), new HashingEmbedder());
             Keel rebuilding = Keel.open(config("rx", 100), dir.resolve("rebuild"), new HashingEmbedder())) {
            live.ingestor().ingestPaths(TENANT, List.of(folder), false, live.traces().start("ingest", TENANT), IngestListener.NONE);
            Set<String> oldBodies = bodies(live);
            ConcurrentLinkedQueue<List<String>> results = new ConcurrentLinkedQueue<>();
            AtomicInteger searches = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> searchers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                String query = WORDS.get(t) + " " + WORDS.get(t + 5);
                searchers.add(Thread.ofVirtual().start(() -> {
                    try {
                        while (!stop.get()) {
                            results.add(search(live, query));
                            searches.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                }));
            }
            try {
                Await.until(Duration.ofSeconds(30), "searches running before the reindex", () -> searches.get() >= 8);
                AtomicBoolean written = new AtomicBoolean();
                IngestListener writeDuringBuild = (done, total, chunks, seconds) -> {
                    if (written.compareAndSet(false, true)) {
                        live.ingestor().ingest(TENANT, new SourceDocument("during-build", "api:during-build", "during-build.md", DocumentFormat.MARKDOWN,
                                (DURING_BUILD + " arrived while the rebuild ran").getBytes(StandardCharsets.UTF_8), 0, Map.of(), null),
                                live.traces().start("ingest", TENANT));
                    }
                };
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int code = ReindexCommand.reindex(rebuilding, (SolrChunkIndex) rebuilding.index(), TENANT, List.of(folder), false, Duration.ofSeconds(30),
                        writeDuringBuild, new PrintStream(out, true, StandardCharsets.UTF_8));
                assertThat(code).as(out.toString(StandardCharsets.UTF_8)).isZero();
                assertThat(out.toString(StandardCharsets.UTF_8)).contains("swapped rx_t_docs to generation 2").contains("1 documents written meanwhile carried over");
                int atSwap = searches.get();
                Await.until(Duration.ofSeconds(30), "searches after the swap", () -> searches.get() >= atSwap + 8);
            } finally {
                stop.set(true);
                for (Thread t : searchers) t.join(Duration.ofSeconds(30));
            }
            assertThat(failure.get()).isNull();
            Set<String> newBodies = bodies(live);
            assertThat(oldBodies).as("chunks of 400 tokens before").anyMatch(b -> words(b) > 150);
            assertThat(newBodies).as("chunks of 100 tokens after").allMatch(b -> words(b) <= 100);
            int oldSeen = 0, newSeen = 0;
            for (List<String> result : results) {
                assertThat(result).as("a search of a tenant with documents").isNotEmpty();
                List<String> rebuilt = result.stream().filter(b -> !b.contains(DURING_BUILD)).toList();
                boolean anyOld = rebuilt.stream().anyMatch(b -> oldBodies.contains(b) && !newBodies.contains(b));
                boolean anyNew = rebuilt.stream().anyMatch(b -> newBodies.contains(b) && !oldBodies.contains(b));
                assertThat(anyOld && anyNew).as("one result mixing generations: %s", result).isFalse();
                assertThat(rebuilt.stream().allMatch(b -> oldBodies.contains(b) || newBodies.contains(b))).as("only whole generations' chunks").isTrue();
                if (anyOld) oldSeen++;
                if (anyNew) newSeen++;
            }
            assertThat(oldSeen).as("searches served by the old generation").isPositive();
            assertThat(newSeen).as("searches served by the new generation").isPositive();
            assertThat(search(live, WORDS.get(0))).allMatch(newBodies::contains);
            assertThat(live.index().document(TENANT, "during-build")).as("the write during the build survives the swap").isPresent();
            assertThat(search(live, DURING_BUILD)).anyMatch(b -> b.contains(DURING_BUILD));
        }
    }

    @Test
    void onTheEmbeddedIndexItSaysItRebuildsSolrCloudCollections() throws Exception {
        Path folder = sources("embedded", 1, 20);
        CliTest.Run r = CliTest.run("reindex", folder.toString(), "--data", dir.resolve("embedded-data").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("keel reindex rebuilds a SolrCloud collection (index.kind: solr)");
    }

    @Test
    void aLockExpiryOutsideOneSecondToOneDayIsRefusedByName() {
        for (String ttl : List.of("0", "-5", "9223372036854775807")) {
            CliTest.Run r = CliTest.run("reindex", "--lock-ttl", ttl, dir.toString(), "--data", dir.resolve("ttl-data").toString());
            assertThat(r.code()).as(ttl).isEqualTo(2);
            assertThat(r.err()).contains("--lock-ttl must be between 1 and 86400 seconds, got " + ttl);
        }
    }

    @Test
    void helpNamesEveryOption() {
        CliTest.Run r = CliTest.run("reindex", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("--tenant").contains("--config").contains("--keep-old").contains("--lock-ttl").contains("PATH");
    }

    private static int words(String text) {
        return text.split("\\s+").length;
    }

    private static JsonNode admin(String action) throws Exception {
        HttpResponse<String> reply = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cloud.nodeUrls().get(0)
                + "/admin/collections?wt=json&action=" + action)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(reply.body());
    }

    private static List<String> collections(String prefix) throws Exception {
        List<String> out = new ArrayList<>();
        admin("LIST").path("collections").forEach(c -> {
            if (c.asText().startsWith(prefix)) out.add(c.asText());
        });
        return out.stream().sorted().toList();
    }

    @Test
    void aKilledReindexLeavesTheOldGenerationServingAndTheNextRunSucceeds() throws Exception {
        Path folder = sources("killed", 60, 120);
        Path yaml = Files.writeString(dir.resolve("killed.yaml"), yaml("rk", 400));
        try (Keel keel = Keel.open(config("rk", 400), dir.resolve("killed-live"))) {
            keel.ingestor().ingestPaths(TENANT, List.of(folder), false, keel.traces().start("ingest", TENANT), IngestListener.NONE);
        }
        Path log = dir.resolve("killed-reindex.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"), "dev.keel.cli.Main", "reindex",
                "--config", yaml.toString(), "--data", dir.resolve("killed-child").toString(), "--tenant", TENANT, "--lock-ttl", "2", folder.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Await.until(Duration.ofSeconds(120), "the child's reindex building generation 2", () -> {
                try {
                    return collections("rk_t_docs").contains("rk_t_docs_g2") || !child.isAlive();
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(child.isAlive()).as(Files.readString(log)).isTrue();
        } finally {
            child.destroyForcibly().waitFor();
        }
        assertThat(admin("LISTALIASES").path("aliases").path("rk_t_docs").asText()).as("the old generation still serves").isEqualTo("rk_t_docs_g1");
        Await.until(Duration.ofSeconds(60), "the killed run's lock expiring and the next run swapping", () -> {
            return Main.execute("reindex", "--config", yaml.toString(), "--data", dir.resolve("killed-next").toString(), "--tenant", TENANT,
                    folder.toString()) == 0;
        });
        assertThat(admin("LISTALIASES").path("aliases").path("rk_t_docs").asText()).isEqualTo("rk_t_docs_g3");
        assertThat(collections("rk_t_docs")).as("the killed run's partial generation and the old one are gone").containsExactly("rk_t_docs_g3");
    }
}
