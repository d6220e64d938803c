package dev.keel.provider;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;

/**
 * The provider client's connector, whose TCP connections remember when their selector last saw bytes to read, so
 * that an upstream's time can end when its answer reached Keel rather than when a thread had been woken to parse it
 * (that hand-off is Keel's time). The bytes a fill returns are tagged, for the thread that goes on to parse them,
 * with that sighting ({@link #arrival(long, long)}). Thread-safe.
 */
final class SightingClientConnector extends ClientConnector {
    /** The selector's sighting behind the bytes this thread filled last; 0 when none. */
    private static final ThreadLocal<Long> LAST_FILL = new ThreadLocal<>();

    @Override
    protected EndPoint newEndPoint(SelectableChannel channel, ManagedSelector selector, SelectionKey key) {
        return channel instanceof SocketChannel socket ? new SightingEndPoint(socket, selector, key, getScheduler()) : super.newEndPoint(channel, selector, key);
    }

    /**
     * When the bytes this thread is parsing reached Keel: its latest fill's sighting if it lies between
     * {@code notBefore} (the request was written; nothing of its answer can precede that) and {@code now}, else {@code now}.
     */
    static long arrival(long notBefore, long now) {
        Long sighting = LAST_FILL.get();
        return arrival(sighting == null ? 0 : sighting, notBefore, now);
    }

    static long arrival(long sighting, long notBefore, long now) {
        boolean current = sighting != 0 && notBefore != 0 && sighting - notBefore >= 0 && now - sighting >= 0;
        return current ? sighting : now;
    }

    private static final class SightingEndPoint extends SocketChannelEndPoint {
        private final SelectionKey key;
        private volatile long readableNanos;

        SightingEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, org.eclipse.jetty.util.thread.Scheduler scheduler) {
            super(channel, selector, key, scheduler);
            this.key = key;
        }

        @Override
        public Runnable onSelected() {
            if (key.isValid() && (key.readyOps() & SelectionKey.OP_READ) != 0) readableNanos = System.nanoTime();
            return super.onSelected();
        }

        @Override
        public int fill(ByteBuffer buffer) throws IOException {
            int filled = super.fill(buffer);
            if (filled > 0) LAST_FILL.set(readableNanos);
            return filled;
        }
    }
}
