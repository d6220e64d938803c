package dev.keel.guard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.GuardConfig;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * What the input detectors found in texts already checked ({@code guard.cache}), so a text sent again (a chat client
 * sends the system prompt and every earlier turn with each request) is not scored again. Each {@link Finding} is a
 * function of the text and of the detectors' configuration only; what depends on the request (placeholder numbers,
 * actions, thresholds, values the caller supplied) is decided again every time from it, and output texts are never
 * remembered. An entry is keyed by the tenant, the guard policy's fingerprint, the finding and the SHA-256 of the text's
 * UTF-16 code units; it holds no text, and no lookup of one tenant (or policy) finds another's entry, so a tenant never
 * observes another's texts through it. Bounded by weight: an entry counts 1, plus 1 per {@link #ITEMS_PER_WEIGHT}
 * signals or entities it holds. Thread-safe; no detector runs under a lock (two concurrent misses of a text both
 * compute it, and find the same).
 */
final class InputAssessments {
    /** Findings held per unit of weight: most entries hold a few, a text full of addresses may hold thousands. */
    private static final int ITEMS_PER_WEIGHT = 16;

    /** One detector's result over a text: the injection assessment with every layer or the cheap ones, the topic fit, the PII spans. */
    static final class Finding<T> {
        static final Finding<InjectionDetector.Assessment> INJECTION = new Finding<>(InjectionDetector.Assessment.class, a -> a.signals().size());
        static final Finding<InjectionDetector.Assessment> INJECTION_CHEAP = new Finding<>(InjectionDetector.Assessment.class, a -> a.signals().size());
        static final Finding<TopicScope.Fit> TOPIC = new Finding<>(TopicScope.Fit.class, f -> 0);
        @SuppressWarnings("unchecked")
        static final Finding<List<PiiEntity>> PII = new Finding<>((Class<List<PiiEntity>>) (Class<?>) List.class, List::size);

        private final Class<T> type;
        private final ToIntFunction<T> items;

        private Finding(Class<T> type, ToIntFunction<T> items) {
            this.type = type;
            this.items = items;
        }
    }

    private record Key(String tenant, String policy, Finding<?> finding, long h0, long h1, long h2, long h3) {}

    private record Entry(Object value, int weight) {}

    private final Cache<Key, Entry> entries;

    InputAssessments(GuardConfig.Cache config) {
        // Eviction work on the caller's thread: no pool to share, and a bound that holds when the put returns.
        entries = Caffeine.newBuilder().maximumWeight(config.maxEntries()).<Key, Entry>weigher((k, e) -> e.weight()).executor(Runnable::run).build();
    }

    /** The memory as one request of {@code tenant} under the policy of {@code fingerprint} sees it. */
    Scope scope(String tenant, String fingerprint) {
        return new Scope(tenant, fingerprint);
    }

    /** Entries held now (for tests and the bench). */
    long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    /** One request's view: its tenant and policy, and how many of its lookups found an entry or computed one. */
    final class Scope {
        private final String tenant, policy;
        private final AtomicInteger recalled = new AtomicInteger(), computed = new AtomicInteger();

        private Scope(String tenant, String policy) {
            this.tenant = tenant;
            this.policy = policy;
        }

        /** The lookups of {@code text}; its digest is computed once, here. */
        Text text(String text) {
            return new Text(this, digest(text));
        }

        int recalled() {
            return recalled.get();
        }

        int computed() {
            return computed.get();
        }
    }

    /** One text of a request, by its digest. */
    final class Text {
        private final Scope scope;
        private final long[] digest;

        private Text(Scope scope, long[] digest) {
            this.scope = scope;
            this.digest = digest;
        }

        /** {@code finding} of this text: remembered, else {@code compute}d and remembered. */
        <T> T get(Finding<T> finding, Supplier<T> compute) {
            Key key = new Key(scope.tenant, scope.policy, finding, digest[0], digest[1], digest[2], digest[3]);
            Entry held = entries.getIfPresent(key);
            if (held != null) {
                scope.recalled.incrementAndGet();
                return finding.type.cast(held.value());
            }
            scope.computed.incrementAndGet();
            T value = compute.get();
            entries.put(key, new Entry(value, 1 + finding.items.applyAsInt(value) / ITEMS_PER_WEIGHT));
            return value;
        }
    }

    /** SHA-256 of the text's UTF-16 code units, exactly (an encoding to bytes would replace lone surrogates, making two texts one). */
    private static long[] digest(String text) {
        ByteBuffer units = ByteBuffer.allocate(text.length() * Character.BYTES);
        units.asCharBuffer().put(text);
        ByteBuffer d;
        try {
            d = ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(units.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
        return new long[] {d.getLong(), d.getLong(), d.getLong(), d.getLong()};
    }
}
