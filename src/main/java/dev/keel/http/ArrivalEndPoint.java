package dev.keel.http;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A server connection that remembers when its selector first saw bytes to read after its last write, so that Keel's
 * own time for a request can start when Keel could first know it had arrived rather than when a request thread began
 * parsing it (the hand-off from the selector to that thread is Keel's time too). Thread-safe: the selector writes, the
 * request's thread reads.
 */
final class ArrivalEndPoint extends SocketChannelEndPoint {
    private final SelectionKey key;
    /** The selector's first sighting of bytes to read since the last write (0: none yet); when the last write began. */
    private volatile long firstReadableNanos, flushedNanos;

    ArrivalEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
        super(channel, selector, key, scheduler);
        this.key = key;
    }

    @Override
    public Runnable onSelected() {
        if (key.isValid() && (key.readyOps() & SelectionKey.OP_READ) != 0 && !seenSince(firstReadableNanos, flushedNanos)) {
            firstReadableNanos = System.nanoTime();
        }
        return super.onSelected();
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws java.io.IOException {
        flushedNanos = System.nanoTime();
        return super.flush(buffers);
    }

    /**
     * When the request that Jetty began parsing at {@code beginNanos} arrived: the selector's first sighting of bytes
     * to read since this connection last wrote (the client had to read the previous answer before sending this request),
     * if it did not come after the parse began; else {@code beginNanos} itself, as when a pipelined request was
     * already buffered.
     */
    long arrivalNanos(long beginNanos) {
        return arrivalNanos(firstReadableNanos, flushedNanos, beginNanos);
    }

    static long arrivalNanos(long firstReadable, long flushed, long begin) {
        return seenSince(firstReadable, flushed) && begin - firstReadable >= 0 ? firstReadable : begin;
    }

    /** Whether {@code readable} is a sighting made after the write at {@code flushed} (0: never written). */
    private static boolean seenSince(long readable, long flushed) {
        return readable != 0 && (flushed == 0 || readable - flushed > 0);
    }
}
