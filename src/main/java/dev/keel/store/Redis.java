package dev.keel.store;

import dev.keel.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Keel's connection to Redis, the shared counters and cache of several replicas: one Lettuce
 * connection shared by every thread (Lettuce is thread-safe and pipelines concurrent commands), every
 * command bounded by {@code redis.timeout_ms}, commands refused at once while disconnected (no queue
 * that would outlive the timeout), reconnection in the background with a delay capped at
 * {@link #MAX_RECONNECT_DELAY}. Every failure surfaces as one {@link RedisUnavailableException} naming
 * the operation, counted in {@code keel_redis_failures_total{operation}}; {@code keel_redis_up} is 1
 * while the connection is open. Neither messages nor metrics ever contain the URL's password: they
 * name {@link RedisConfig#address()}. Opening fails when Redis cannot be reached. Owns the client;
 * {@link #close()} releases it.
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

    private final String address;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final MeterRegistry registry;

    private Redis(String address, ClientResources resources, RedisClient client, StatefulRedisConnection<byte[], byte[]> connection,
                  MeterRegistry registry) {
        this.address = address;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.registry = registry;
        Gauge.builder("keel.redis.up", connection, c -> c.isOpen() ? 1 : 0)
                .description("1 while this replica's connection to Redis is open, else 0").register(registry);
    }

    /** Connects to {@code config.url()}; fails with a {@link StoreException} naming the address when Redis cannot be reached. */
    public static Redis open(RedisConfig config, MeterRegistry registry) {
        Duration timeout = Duration.ofMillis(config.timeoutMs());
        ClientResources resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(FIRST_RECONNECT_DELAY, MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS)).build();
        RedisClient client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout)).build());
        try {
            RedisURI uri = RedisURI.create(config.url());
            uri.setTimeout(timeout);
            return new Redis(config.address(), resources, client, client.connect(ByteArrayCodec.INSTANCE, uri), registry);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            String reason = reason(e);
            String credentials = java.net.URI.create(config.url()).getRawUserInfo();
            if (credentials != null && !credentials.isEmpty()) reason = reason.replace(credentials, "****"); // a parser may quote the URL
            throw new StoreException("Redis at " + config.address() + " cannot be reached (redis.url): " + reason, null);
        }
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
            return command.apply(connection.sync());
        } catch (RedisException | IllegalStateException e) {
            Counter.builder("keel.redis.failures").description("Redis calls that failed or timed out, by operation")
                    .tag("operation", operation).register(registry).increment();
            throw new RedisUnavailableException("Redis at " + address + " failed during " + operation + ": " + reason(e));
        }
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
