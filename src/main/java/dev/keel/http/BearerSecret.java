package dev.keel.http;

import dev.keel.store.ContentHash;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A configured secret that a request proves with {@code Authorization: Bearer <secret>}. Compared in
 * constant time (as hashes, so the length does not leak either); the secret itself is never kept, logged
 * or shown. An unset secret is proved by nobody. Immutable and thread-safe.
 */
final class BearerSecret {
    private final byte[] hash;

    private BearerSecret(byte[] hash) {
        this.hash = hash;
    }

    /** The secret, or one nobody can present when {@code secret} is null. */
    static BearerSecret of(String secret) {
        return new BearerSecret(secret == null ? null : digest(secret));
    }

    boolean isSet() {
        return hash != null;
    }

    boolean presentedBy(Context ctx) {
        return presentedBy(Exchange.of(ctx));
    }

    boolean presentedBy(Exchange exchange) {
        return hash != null && MessageDigest.isEqual(digest(HttpServer.bearer(exchange)), hash);
    }

    private static byte[] digest(String secret) {
        return ContentHash.sha256(secret).getBytes(StandardCharsets.UTF_8);
    }
}
