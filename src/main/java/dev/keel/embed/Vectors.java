package dev.keel.embed;

/** Vector arithmetic on float arrays. */
public final class Vectors {
    private Vectors() {}

    public static float[] normalize(float[] v) {
        double norm = 0;
        for (float x : v) norm += x * x;
        norm = Math.sqrt(norm);
        if (norm == 0) return v;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] / norm);
        return out;
    }

    /** Dot product; equals cosine similarity for unit vectors. */
    public static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** The vector as float32 bytes, big-endian (Java's order): how tables written by more than one Keel class store vectors. */
    public static byte[] toBytes(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * Float.BYTES);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** The vector {@link #toBytes} wrote; trailing bytes short of a float are ignored. */
    public static float[] fromBytes(byte[] bytes) {
        float[] v = new float[bytes.length / Float.BYTES];
        java.nio.ByteBuffer.wrap(bytes).asFloatBuffer().get(v);
        return v;
    }
}
