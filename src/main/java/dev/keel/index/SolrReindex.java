package dev.keel.index;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A blue/green rebuild of one tenant's collection on SolrCloud. {@link #begin} takes the tenant's
 * reindex lock, deletes what an earlier run left behind, and creates the next generation beside the
 * serving one; the caller writes the rebuilt documents into {@link #target()} (and commits) while
 * searches and writes keep going to the serving generation through the tenant's alias; then
 * {@link #finish} carries over what was written to the serving generation meanwhile, points the
 * alias at the new generation in one step, carries over once more (writes that raced the swap), and
 * deletes the old generation. A search sees the old generation or the new one, each whole: never a
 * mix, never a half-built one.
 *
 * <p>What holds: a run that fails or is killed before the swap leaves the serving generation as it
 * was; its partial generation is deleted by {@link #close} or, when the process died, by the next
 * run. Two runs on one tenant exclude each other through a lock document in the tenant's collection
 * that expires ({@code lockTtl}) unless its run renews it, so a killed run's lock frees itself. A
 * document written or deleted in the serving generation during the build is carried over as that
 * write left it (chunked by the writer's settings); documents in the serving generation that the
 * build did not write (not among its sources) are carried over as they are. What does not hold:
 * between the last carry-over and the swap, a write is in the old generation only; for the moment
 * until the carry-over after the swap, a search may miss it (or still see a just-deleted document).
 * A write whose update reached the old generation before the swap is carried over even when its
 * commit (through the alias) reached the new one; an update that reached the old generation after
 * the last carry-over is lost with it (kept with {@code keepOld}).
 *
 * <p>Not thread-safe: one run, one caller. Close it (try-with-resources); it never closes the index.
 */
public final class SolrReindex implements AutoCloseable {
    /** The lock document's id, beside the model marker; its owner is in {@code source}, its expiry (epoch ms) in {@code modified_at}. */
    private static final String LOCK_ID = "m:reindex_lock";
    /** Renewals per lock lifetime: two may fail (a Solr node restarting) before the lock lapses. */
    private static final int RENEWALS_PER_TTL = 3;
    /** Reads of a document being copied that may each meet a newer version than its chunks before the copy gives up. */
    private static final int COPY_ATTEMPTS = 5;

    /**
     * What a finished run did: documents written to the old generation during the build and copied
     * over ({@code carriedOver}), documents the build's sources did not hold, copied as they were
     * ({@code keptUnbuilt}), and documents deleted during the build ({@code removed}).
     */
    public record Outcome(String alias, int fromGeneration, int toGeneration, int carriedOver, int keptUnbuilt, int removed, boolean oldKept) {}

    private final SolrChunkIndex index;
    private final String tenant;
    private final String alias;
    private final String oldName;
    private final String newName;
    private final SolrChunkIndex old;
    private final SolrChunkIndex target;
    private final Lock lock;
    /** The serving generation's documents as last looked at (id → stamp): what changed since is carried over. */
    private Map<String, String> oldSeen;
    private int carried;
    private int removed;
    private int unbuilt;
    private boolean swapped;

    private SolrReindex(SolrChunkIndex index, String tenant, String alias, String oldName, String newName, Lock lock) {
        this.index = index;
        this.tenant = tenant;
        this.alias = alias;
        this.oldName = oldName;
        this.newName = newName;
        this.lock = lock;
        this.old = index.pinned(tenant, oldName);
        this.target = index.pinned(tenant, newName);
    }

    /**
     * Starts a rebuild of {@code tenant}'s collection (created first when the tenant has none).
     *
     * @throws IndexException when another run holds the tenant's lock, naming it and when its lock expires
     */
    public static SolrReindex begin(SolrChunkIndex index, String tenant, Duration lockTtl) {
        String alias = index.ensureCollection(tenant);
        String serving = index.aliases().get(alias);
        if (serving == null) throw new IndexException("the Solr alias " + alias + " disappeared while a reindex was starting");
        Lock lock = Lock.acquire(index.http(), serving, tenant, lockTtl);
        SolrReindex run;
        try {
            if (!serving.equals(index.aliases().get(alias))) {
                throw new IndexException("another reindex of tenant '" + tenant + "' swapped generations while this one started; run it again");
            }
            List<Integer> generations = index.generations(alias);
            for (int g : generations) {
                String name = SolrChunkIndex.generationName(alias, g);
                if (!name.equals(serving)) index.dropCollection(name);
            }
            int next = Math.max(SolrChunkIndex.generationOf(serving), generations.isEmpty() ? 0 : generations.getLast()) + 1;
            String newName = SolrChunkIndex.generationName(alias, next);
            index.createGeneration(newName);
            run = new SolrReindex(index, tenant, alias, serving, newName, lock);
        } catch (RuntimeException e) {
            lock.release();
            throw e;
        }
        try {
            run.target.checkModel(run.newName);
            run.oldSeen = run.old.catalogue(tenant);
            return run;
        } catch (RuntimeException e) {
            run.close();
            throw e;
        }
    }

    /** Where the rebuilt documents go: the new generation, for this tenant only. Commit it before {@link #finish}. */
    public ChunkIndex target() {
        return target;
    }

    /** The generation serving while the rebuild runs. */
    public int fromGeneration() {
        return SolrChunkIndex.generationOf(oldName);
    }

    /** The generation being built. */
    public int toGeneration() {
        return SolrChunkIndex.generationOf(newName);
    }

    /**
     * Carries over what the serving generation received meanwhile, swaps the alias to the new
     * generation, carries over once more, and deletes the old generation unless {@code keepOld}.
     *
     * @throws IndexException when the lock was lost (it expired: another run may be building), before anything is swapped
     */
    public Outcome finish(boolean keepOld) {
        lock.requireHeld();
        Map<String, String> built = target.catalogue(tenant);
        carryOver(oldSeen, old.catalogue(tenant), built, true);
        Map<String, String> newSeen = target.catalogue(tenant);
        lock.requireHeld();
        lock.moveTo(newName);
        index.pointAlias(alias, newName);
        swapped = true;
        carryOverAfterSwap(newSeen);
        if (!keepOld) index.dropCollection(oldName);
        return new Outcome(alias, fromGeneration(), toGeneration(), carried, unbuilt, removed, keepOld);
    }

    /**
     * Before the swap: documents the serving generation changed or gained since {@code seen} are
     * copied as they are, documents it lost are deleted, and with {@code unbuilt} so are copied the
     * ones the build did not write.
     */
    private void carryOver(Map<String, String> seen, Map<String, String> now, Map<String, String> built, boolean unbuilt) {
        for (var e : now.entrySet()) {
            if (!e.getValue().equals(seen.get(e.getKey()))) {
                carried += copy(e.getKey());
            } else if (unbuilt && !built.containsKey(e.getKey())) {
                this.unbuilt += copy(e.getKey());
            }
        }
        for (String docId : seen.keySet()) {
            if (!now.containsKey(docId) && built.containsKey(docId) && target.delete(tenant, docId)) removed++;
        }
        target.commit();
        oldSeen = now;
    }

    /**
     * After the swap: as before it, for the changes the old generation received since the last
     * look, but only to documents no write has touched in the new generation since the swap (a
     * newer write wins).
     */
    private void carryOverAfterSwap(Map<String, String> newSeen) {
        // A writer whose update reached the old generation before the swap commits through the alias, which now names the new one.
        index.commitCollection(oldName);
        Map<String, String> now = old.catalogue(tenant);
        Map<String, String> current = target.catalogue(tenant);
        Set<String> untouched = new HashSet<>();
        for (var e : newSeen.entrySet()) if (e.getValue().equals(current.get(e.getKey()))) untouched.add(e.getKey());
        Map<String, String> seen = oldSeen;
        for (var e : now.entrySet()) {
            boolean untouchedOrAbsent = untouched.contains(e.getKey()) || !newSeen.containsKey(e.getKey()) && !current.containsKey(e.getKey());
            if (!e.getValue().equals(seen.get(e.getKey())) && untouchedOrAbsent) carried += copy(e.getKey());
        }
        for (String docId : seen.keySet()) {
            if (!now.containsKey(docId) && untouched.contains(docId) && target.delete(tenant, docId)) removed++;
        }
        target.commit();
        oldSeen = now;
    }

    /**
     * Copies one document and its chunks (vectors included) from the old generation, as they are: 1
     * when copied, 0 when it was gone meanwhile (then deleted here too).
     */
    private int copy(String docId) {
        for (int attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
            Optional<DocumentRecord> doc = old.document(tenant, docId);
            if (doc.isEmpty()) {
                if (target.delete(tenant, docId)) removed++;
                return 0;
            }
            List<ChunkRecord> chunks = old.export(tenant, docId);
            if (chunks.size() == doc.get().chunkCount() && chunks.stream().allMatch(c -> c.docVersion().equals(doc.get().version()))) {
                target.replace(doc.get(), chunks);
                return 1;
            }
        }
        throw new IndexException("document " + docId + " of tenant " + tenant + " kept changing while the reindex copied it; run the reindex again");
    }

    /** Releases the lock; a run that did not swap deletes its partial generation (best effort: the next run deletes it otherwise). */
    @Override
    public void close() {
        try {
            if (!swapped) index.dropCollection(newName);
        } catch (RuntimeException e) {
            // The next run deletes what is left; the lock must still go.
        } finally {
            target.close();
            old.close();
            lock.release();
        }
    }

    /**
     * The tenant's reindex lock: a document created only if absent (Solr's optimistic concurrency,
     * {@code _version_ = -1}) in the serving generation, naming its owner and an expiry that a
     * background thread pushes forward while the run lives. An expired lock is taken over by
     * deleting exactly the version that was read (two runs racing for it: one wins).
     */
    private static final class Lock {
        private final SolrHttp solr;
        private final String tenant;
        private final String owner;
        private final Duration ttl;
        private final CountDownLatch stopped = new CountDownLatch(1);
        private final Thread renewer;
        /** Collections holding this lock's document (the serving generation, then the new one too). */
        private final List<String> homes = new CopyOnWriteArrayList<>();
        /** The lock document's version in each home, as last written by this run. */
        private final Map<String, Long> versions = new ConcurrentHashMap<>();
        private volatile boolean lost;

        private Lock(SolrHttp solr, String tenant, String home, long version, String owner, Duration ttl) {
            this.solr = solr;
            this.tenant = tenant;
            this.owner = owner;
            this.ttl = ttl;
            homes.add(home);
            versions.put(home, version);
            this.renewer = Thread.ofVirtual().name("keel-reindex-lock").start(this::renewUntilStopped);
        }

        static Lock acquire(SolrHttp solr, String home, String tenant, Duration ttl) {
            String owner = ManagementFactory.getRuntimeMXBean().getName() + " " + UUID.randomUUID();
            for (int attempt = 0; attempt < 2; attempt++) {
                Optional<Long> created = write(solr, home, owner, ttl, -1);
                if (created.isPresent()) return new Lock(solr, tenant, home, created.get(), owner, ttl);
                JsonNode held = read(solr, home);
                if (held == null) continue;
                long expires = held.path(SolrChunkIndex.MODIFIED).asLong();
                if (expires > System.currentTimeMillis()) throw busy(tenant, held.path(SolrChunkIndex.SOURCE).asText(), expires);
                solr.postJsonUnlessConflict("/" + home + "/update", Map.of("wt", "json"),
                        Map.of("delete", Map.of(SolrChunkIndex.ID, LOCK_ID, "_version_", held.path("_version_").asLong())));
            }
            JsonNode held = read(solr, home);
            throw busy(tenant, held == null ? "another run" : held.path(SolrChunkIndex.SOURCE).asText(),
                    held == null ? System.currentTimeMillis() : held.path(SolrChunkIndex.MODIFIED).asLong());
        }

        private static IndexException busy(String tenant, String holder, long expires) {
            return new IndexException("a reindex of tenant '" + tenant + "' is already running (" + holder + "); only one may run per tenant."
                    + " Wait for it to finish; if it was killed, its lock expires at " + Instant.ofEpochMilli(expires) + " and the next run proceeds.");
        }

        /** Writes the lock document: new when {@code version} is -1, else replacing exactly that version; empty on a conflict. */
        private static Optional<Long> write(SolrHttp solr, String collection, String owner, Duration ttl, long version) {
            Map<String, Object> doc = Map.of(SolrChunkIndex.ID, LOCK_ID, SolrChunkIndex.KIND, SolrChunkIndex.META_KIND, SolrChunkIndex.SOURCE, owner,
                    SolrChunkIndex.MODIFIED, System.currentTimeMillis() + ttl.toMillis(), "_version_", version);
            return solr.postJsonUnlessConflict("/" + collection + "/update", Map.of("wt", "json", "versions", "true"), List.of(doc))
                    .map(reply -> reply.path("adds").path(1).asLong());
        }

        /** The lock document as the collection's leader has it now, committed or not; null when there is none. */
        private static JsonNode read(SolrHttp solr, String collection) {
            JsonNode doc = solr.get("/" + collection + "/get", Map.of("id", LOCK_ID, "fl", SolrChunkIndex.SOURCE + "," + SolrChunkIndex.MODIFIED + ",_version_",
                    "wt", "json")).path("doc");
            return doc.isObject() ? doc : null;
        }

        private void renewUntilStopped() {
            long every = Math.max(1, ttl.toMillis() / RENEWALS_PER_TTL);
            try {
                while (!stopped.await(every, TimeUnit.MILLISECONDS)) {
                    for (String home : homes) {
                        try {
                            Optional<Long> renewed = write(solr, home, owner, ttl, versions.get(home));
                            if (renewed.isEmpty()) lost = true;
                            else versions.put(home, renewed.get());
                        } catch (RuntimeException e) {
                            // Solr unreachable for a moment: the next renewal tries again; the lock lapses only after ttl.
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void requireHeld() {
            JsonNode held = read(solr, homes.getFirst());
            if (lost || held == null || !owner.equals(held.path(SolrChunkIndex.SOURCE).asText())) {
                throw new IndexException("the reindex of tenant '" + tenant + "' lost its lock (it expired, so another run may have started);"
                        + " nothing was swapped. Run the reindex again.");
            }
        }

        /** Also holds the lock in {@code collection} (the new generation, about to serve), so a run starting after the swap sees it. */
        void moveTo(String collection) {
            long version = write(solr, collection, owner, ttl, -1)
                    .orElseThrow(() -> new IndexException("the new generation " + collection + " already holds a reindex lock"));
            versions.put(collection, version);
            homes.add(collection);
        }

        /** Stops renewing and deletes the lock documents this run wrote (only its own versions; a lost lock stays with its new owner). */
        void release() {
            stopped.countDown();
            try {
                renewer.join(ttl.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (String home : homes) {
                try {
                    solr.postJsonUnlessMissing("/" + home + "/update", Map.of("wt", "json", "commit", "true"),
                            Map.of("delete", Map.of(SolrChunkIndex.ID, LOCK_ID, "_version_", versions.get(home))));
                } catch (RuntimeException e) {
                    // Gone with its collection, taken over, or Solr unreachable: it expires by itself.
                }
            }
        }
    }
}
