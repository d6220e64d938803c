package dev.keel.http;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;

/**
 * Serves {@code POST /v1/chat/completions} straight from Jetty, in front of Javalin, with the same steps every other
 * {@code /v1} route passes ({@link HttpServer#serve}): Javalin's servlet layer, context and routing add about 0.1 ms
 * to a request back to back and about 0.7 ms to one that comes after a pause, most of what the gateway added to a
 * lone request (measured, see the README's performance section). Any other request, and this path with another method
 * or a trailing slash, goes on to Javalin. Thread-safe.
 */
final class HotRoute extends Handler.Wrapper {
    private static final String ROUTE = "POST " + ChatRoutes.COMPLETIONS_PATH;
    /** Response bytes gathered before a write: an SSE frame's three pieces leave in one write when it is flushed. */
    private static final int OUTPUT_BUFFER = 16 * 1024;

    private final HttpServer server;
    private final ChatRoutes chat;
    private final long maxBodyBytes;

    HotRoute(HttpServer server, ChatRoutes chat, long maxBodyBytes) {
        this.server = server;
        this.chat = chat;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!request.getMethod().equals("POST") || !request.getHttpURI().getPath().equals(ChatRoutes.COMPLETIONS_PATH)) {
            return super.handle(request, response, callback);
        }
        JettyExchange exchange = new JettyExchange(request, response, maxBodyBytes);
        server.serve(exchange, ROUTE, chat::complete);
        exchange.complete(callback);
        return true;
    }

    /** An {@link Exchange} over Jetty's own request and response, written with blocking calls (it runs on a virtual thread). */
    static final class JettyExchange implements Exchange {
        private final Request request;
        private final Response response;
        private final long maxBodyBytes;
        private static final int INITIAL_BODY_BUFFER = 16 * 1024;
        private byte[] body;
        private OutputStream output;
        private byte[] error;

        JettyExchange(Request request, Response response, long maxBodyBytes) {
            this.request = request;
            this.response = response;
            this.maxBodyBytes = maxBodyBytes;
        }

        @Override
        public String method() {
            return request.getMethod();
        }

        @Override
        public String path() {
            return request.getHttpURI().getPath();
        }

        @Override
        public String header(String name) {
            return request.getHeaders().get(name);
        }

        @Override
        public List<String> headers(String name) {
            return request.getHeaders().getValuesList(name);
        }

        @Override
        public long declaredLength() {
            return request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        }

        /**
         * The whole body, read chunk by chunk from Jetty (an {@code InputStream} over it cost ~2% of a proxied
         * request's CPU at maximum throughput, most of it in its close). A failed read (the client gone, the
         * connection idle past its timeout, a malformed chunk) is thrown with Jetty's failure as its cause. A body
         * over the limit is refused at the chunk that passes it, however it was sent (declared or not).
         */
        @Override
        public byte[] body() {
            if (body != null) return body;
            int limit = (int) Math.min(maxBodyBytes, Integer.MAX_VALUE - 16);
            byte[] read = new byte[initialCapacity(request.getLength())];
            int length = 0;
            while (true) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    try (Blocker.Runnable more = Blocker.runnable()) {
                        request.demand(more);
                        more.block();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    continue;
                }
                if (Content.Chunk.isFailure(chunk)) throw new UncheckedIOException(new IOException("reading the request body failed", chunk.getFailure()));
                try {
                    ByteBuffer bytes = chunk.getByteBuffer();
                    int n = bytes.remaining();
                    if (n > limit - length) throw HttpServer.tooLarge("more than " + limit + " bytes", maxBodyBytes);
                    if (n > read.length - length) read = java.util.Arrays.copyOf(read, (int) Math.min(limit, Math.max(read.length * 2L, (long) length + n)));
                    bytes.get(read, length, n);
                    length += n;
                } finally {
                    chunk.release();
                }
                if (chunk.isLast()) break;
            }
            body = length == read.length ? read : java.util.Arrays.copyOf(read, length);
            return body;
        }

        /**
         * The buffer a body starts in: its declared length up to 16 KiB, growing as bytes arrive. Never the declared
         * length itself: a client declaring 25 MiB and sending a byte now and then held 25 MiB per connection, and 90
         * such connections filled a 2 GB heap (attack review).
         */
        static int initialCapacity(long declaredLength) {
            return declaredLength < 0 ? INITIAL_BODY_BUFFER : (int) Math.min(declaredLength, INITIAL_BODY_BUFFER);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T attribute(String name) {
            return (T) request.getAttribute(name);
        }

        @Override
        public void attribute(String name, Object value) {
            if (value == null) request.removeAttribute(name);
            else request.setAttribute(name, value);
        }

        @Override
        public int status() {
            return response.getStatus();
        }

        @Override
        public void status(int status) {
            if (!response.isCommitted()) response.setStatus(status);
        }

        @Override
        public void header(String name, String value) {
            response.getHeaders().put(name, value);
        }

        @Override
        public void contentType(String type) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        }

        @Override
        public OutputStream output() {
            if (output == null) {
                closeUnlessBodyRead();
                output = new BufferedOutputStream(Content.Sink.asOutputStream(response), OUTPUT_BUFFER);
            }
            return output;
        }

        @Override
        public void send(int status, String contentType, byte[] content) throws IOException {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, content.length);
            closeUnlessBodyRead();
            write(ByteBuffer.wrap(content));
        }

        @Override
        public void error(int status, byte[] json) {
            if (response.isCommitted()) return; // a stream already under way: it ends as it is
            response.setStatus(status);
            error = json;
        }

        @Override
        public Request jettyRequest() {
            return request;
        }

        /** Ends the response: an error's body, or the rest of a streamed one. A client that went away fails the exchange, as Jetty expects. */
        void complete(Callback callback) {
            try {
                if (error != null && !response.isCommitted()) {
                    send(response.getStatus(), "application/json", error);
                } else if (output != null) {
                    output.close();
                }
                callback.succeeded();
            } catch (IOException | RuntimeException e) {
                callback.failed(e);
            }
        }

        /**
         * A request answered before its body was read (refused first): what of the body has arrived is dropped, and if
         * more may follow the response says {@code Connection: close}, since the next bytes on the connection would be the
         * rest of this body, not a new request.
         */
        private void closeUnlessBodyRead() {
            if (body == null && !request.consumeAvailable()) response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        }

        private void write(ByteBuffer content) throws IOException {
            try (Blocker.Callback written = Blocker.callback()) {
                response.write(true, content, written);
                written.block();
            }
        }
    }
}
