package dev.keel.store;

import dev.keel.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keel's connection to Redis, the shared counters and cache of several replicas: one Lettuce
 * connection shared by every thread (Lettuce is thread-safe and pipelines concurrent commands), every
 * command bounded by {@code redis.timeout_ms}, commands refused at once while disconnected (no queue
 * that would outlive the timeout), reconnection in the background with a delay capped at
 * {@link #MAX_RECONNECT_DELAY}. Every failure surfaces as one {@link RedisUnavailableException} naming
 * the operation, counted in {@code keel_redis_failures_total{operation}}; {@code keel_redis_up} is 1
 * while the connection is open and the last call did not time out or lose the connection (an error
 * reply such as OOM leaves it up). Neither messages nor metrics ever contain the URL's password: they
 * name {@link RedisConfig#address()}. Opening waits up to about {@link #STARTUP_BOUND} for a Redis that
 * is still starting, then fails naming the address; it warns when Redis's {@code maxmemory-policy} may
 * evict keys, since budgets and rate limits live in keys with a TTL. Owns the client; {@link #close()}
 * releases it.
 */
public final class Redis implements AutoCloseable {
    /** A failed or timed-out Redis call; the message names the operation and address, never credentials. */
    public static final class RedisUnavailableException extends RuntimeException {
        RedisUnavailableException(String message) {
            super(message);
        }
    }

    /** A restarted Redis is found again within about this long, however long it was down. */
    private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);
    private static final Duration FIRST_RECONNECT_DELAY = Duration.ofMillis(50);
    /** Replicas started together with their Redis: the first connection may take this long, however short {@code timeout_ms} is. */
    static final Duration STARTUP_BOUND = Duration.ofSeconds(5);
    /** Attempts at startup, waiting {@link #FIRST_STARTUP_RETRY} then twice as long each time: about 3.75 s in all. */
    private static final int STARTUP_ATTEMPTS = 5;
    private static final Duration FIRST_STARTUP_RETRY = Duration.ofMillis(250);
    /** The only policy under which Redis never drops Keel's limit keys to make room. */
    public static final String NO_EVICTION = "noeviction";
    /** What {@link #maxmemoryPolicy()} says when Redis will not tell (managed services often forbid CONFIG). */
    public static final String UNKNOWN_POLICY = "unknown";
    private static final Logger LOG = LoggerFactory.getLogger(Redis.class);

    private final String address;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final MeterRegistry registry;
    /** False after a call timed out or found no connection, true again after the next call that got an answer. */
    private volatile boolean answering = true;

    private Redis(String address, ClientResources resources, RedisClient client, StatefulRedisConnection<byte[], byte[]> connection,
                  MeterRegistry registry) {
        this.address = address;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.registry = registry;
        Gauge.builder("keel.redis.up", this, r -> r.connection.isOpen() && r.answering ? 1 : 0)
                .description("1 while this replica's connection to Redis is open and its last call was answered, else 0").register(registry);
    }

    /**
     * Connects to {@code config.url()}, retrying with backoff while Redis is not there yet; fails with a
     * {@link StoreException} naming the address when it still cannot be reached.
     */
    public static Redis open(RedisConfig config, MeterRegistry registry) {
        Duration timeout = Duration.ofMillis(config.timeoutMs());
        Duration startup = timeout.compareTo(STARTUP_BOUND) > 0 ? timeout : STARTUP_BOUND;
        ClientResources resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(FIRST_RECONNECT_DELAY, MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS)).build();
        RedisClient client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(startup).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout)).build());
        Duration wait = FIRST_STARTUP_RETRY;
        for (int attempt = 1; ; attempt++) {
            try {
                RedisURI uri = RedisURI.create(config.url());
                uri.setTimeout(startup);
                StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE, uri);
                connection.setTimeout(timeout);
                Redis redis = new Redis(config.address(), resources, client, connection, registry);
                redis.warnWhenEvicting();
                return redis;
            } catch (RuntimeException e) {
                String reason = withoutCredentials(config, reason(e));
                if (attempt < STARTUP_ATTEMPTS) {
                    LOG.info("Redis at {} not reachable yet ({}); retrying in {} ms", config.address(), reason, wait.toMillis());
                    LockSupport.parkNanos(wait.toNanos());
                    wait = wait.multipliedBy(2);
                    continue;
                }
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                resources.shutdown(0, 2, TimeUnit.SECONDS);
                throw new StoreException("Redis at " + config.address() + " cannot be reached (redis.url): " + reason, null);
            }
        }
    }

    private static String withoutCredentials(RedisConfig config, String reason) {
        String credentials = java.net.URI.create(config.url()).getRawUserInfo();
        return credentials != null && !credentials.isEmpty() ? reason.replace(credentials, "****") : reason; // a parser may quote the URL
    }

    /**
     * Redis's {@code maxmemory-policy}, or {@link #UNKNOWN_POLICY} when it refuses {@code CONFIG GET} or
     * does not answer in time.
     */
    public String maxmemoryPolicy() {
        try {
            return connection.sync().configGet("maxmemory-policy").getOrDefault("maxmemory-policy", UNKNOWN_POLICY);
        } catch (RedisException e) {
            return UNKNOWN_POLICY;
        }
    }

    /** True for a policy under which Redis drops keys when full: every policy but {@link #NO_EVICTION} (all Keel's limit keys have a TTL). */
    public static boolean evicts(String policy) {
        return !NO_EVICTION.equals(policy) && !UNKNOWN_POLICY.equals(policy);
    }

    /**
     * What readiness shows: {@code status} up|down, {@code address}, and while up {@code maxmemory_policy}
     * with a {@code warning} when that policy may evict limit keys.
     */
    public Map<String, Object> health() {
        Map<String, Object> health = new LinkedHashMap<>();
        boolean up = reachable();
        health.put("status", up ? "up" : "down");
        health.put("address", address);
        if (!up) return health;
        String policy = maxmemoryPolicy();
        health.put("maxmemory_policy", policy);
        if (evicts(policy)) health.put("warning", evictionWarning(policy));
        return health;
    }

    private void warnWhenEvicting() {
        String policy = maxmemoryPolicy();
        if (evicts(policy)) LOG.warn("Redis at {}: {}", address, evictionWarning(policy));
    }

    private static String evictionWarning(String policy) {
        return "maxmemory-policy " + policy + " may evict budget and rate-limit keys when memory is full, and a key may then overspend;"
                + " set maxmemory-policy " + NO_EVICTION;
    }

    /** The address, without credentials. */
    public String address() {
        return address;
    }

    /** True when Redis answers a PING within the timeout. */
    public boolean reachable() {
        try {
            call("ping", RedisCommands::ping);
            return true;
        } catch (RedisUnavailableException e) {
            return false;
        }
    }

    /**
     * Runs a Lua script atomically (by its digest, loading it when Redis does not know it yet) and
     * returns its multi-bulk reply with bulk strings as UTF-8 text and integers as {@link Long}.
     */
    public List<Object> script(String operation, Script script, List<String> keys, List<String> args) {
        byte[][] k = keys.stream().map(Redis::utf8).toArray(byte[][]::new);
        byte[][] a = args.stream().map(Redis::utf8).toArray(byte[][]::new);
        List<Object> raw = call(operation, c -> {
            try {
                return c.evalsha(script.digest, ScriptOutputType.MULTI, k, a);
            } catch (RedisNoScriptException e) {
                return c.eval(script.body, ScriptOutputType.MULTI, k, a);
            }
        });
        return raw.stream().map(v -> v instanceof byte[] b ? (Object) new String(b, StandardCharsets.UTF_8) : v).toList();
    }

    /** The value under {@code key}, if any. */
    public Optional<byte[]> get(String operation, byte[] key) {
        return Optional.ofNullable(call(operation, c -> c.get(key)));
    }

    /** Stores {@code value} under {@code key} for {@code ttl}. */
    public void set(String operation, byte[] key, byte[] value, Duration ttl) {
        call(operation, c -> c.set(key, value, SetArgs.Builder.px(ttl.toMillis())));
    }

    /** Deletes {@code key}. */
    public void delete(String operation, byte[] key) {
        call(operation, c -> c.del(key));
    }

    private <T> T call(String operation, Function<RedisCommands<byte[], byte[]>, T> command) {
        try {
            T reply = command.apply(connection.sync());
            answering = true;
            return reply;
        } catch (RedisCommandExecutionException e) {
            answering = true; // an error reply (OOM, a script error): Redis is there
            throw failed(operation, e);
        } catch (RedisException | IllegalStateException e) {
            answering = false;
            throw failed(operation, e);
        }
    }

    private RedisUnavailableException failed(String operation, RuntimeException e) {
        Counter.builder("keel.redis.failures").description("Redis calls that failed or timed out, by operation")
                .tag("operation", operation).register(registry).increment();
        return new RedisUnavailableException("Redis at " + address + " failed during " + operation + ": " + reason(e));
    }

    /** The registry this connection's meters go to, for the meters of what uses it. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The innermost cause's message: "Connection refused", "Command timed out after 500 millisecond(s)"… */
    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String m = root.getMessage();
        return m == null ? root.getClass().getSimpleName() : m;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    /** A Lua script and its SHA-1 digest, computed once. */
    public static final class Script {
        private final byte[] body;
        private final String digest;

        public Script(String body) {
            this.body = utf8(body);
            try {
                this.digest = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(this.body));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is part of every JDK", e);
            }
        }
    }
}
