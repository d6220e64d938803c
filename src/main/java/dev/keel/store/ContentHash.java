package dev.keel.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 content hashes, the identity of document versions and cached embeddings. */
public final class ContentHash {
    /**
     * Cloned for each hash: finding the algorithm's provider anew ({@code MessageDigest.getInstance}) cost more than
     * hashing a key, ~1.5% of a proxied request's CPU at maximum throughput (JFR).
     */
    private static final MessageDigest SHA_256;

    static {
        try {
            SHA_256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ContentHash() {}

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(((MessageDigest) SHA_256.clone()).digest(bytes));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the platform's SHA-256 cannot be cloned", e);
        }
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }
}
