package dev.keel.ingest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Mutual exclusion per (tenant, document id): writers of one document run one at a time, while
 * writers of other documents, or of the same id in another tenant, never wait for them. A lock
 * exists only while someone holds or awaits it. Thread-safe; fine on virtual threads.
 */
final class DocumentLocks {
    private record Key(String tenant, String docId) {}

    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    /** Held locks; closing releases them. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    private final ConcurrentHashMap<Key, Entry> locks = new ConcurrentHashMap<>();

    /** Locks these documents of {@code tenant}, in id order so that two callers never deadlock; waits as long as it takes. */
    Held lock(String tenant, Collection<String> docIds) {
        List<Key> keys = docIds.stream().distinct().sorted().map(id -> new Key(tenant, id)).toList();
        List<Entry> held = new ArrayList<>(keys.size());
        for (Key key : keys) {
            Entry entry = locks.compute(key, (k, e) -> {
                Entry out = e == null ? new Entry() : e;
                out.users++;
                return out;
            });
            entry.lock.lock();
            held.add(entry);
        }
        return () -> {
            for (int i = keys.size() - 1; i >= 0; i--) {
                held.get(i).lock.unlock();
                locks.computeIfPresent(keys.get(i), (k, e) -> --e.users == 0 ? null : e);
            }
        };
    }

    /** Documents locked or awaited right now. */
    int size() {
        return locks.size();
    }
}
