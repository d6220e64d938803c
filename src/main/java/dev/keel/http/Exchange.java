package dev.keel.http;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.server.Request;

/**
 * One HTTP request and its response as Keel's request pipeline ({@link HttpServer}) and the gateway's routes use them,
 * whether Javalin serves the request or {@link HotRoute}, Keel's own Jetty handler for the gateway's hot route. Used by
 * the request's thread only.
 */
interface Exchange {
    /** The request method, upper case ({@code POST}). */
    String method();

    String path();

    /** The request header's first value, or null. Names are case-insensitive. */
    String header(String name);

    /** Every value of a request header, in order; empty when absent. */
    List<String> headers(String name);

    /** The declared {@code Content-Length}; -1 when the body's length was not declared. */
    long declaredLength();

    /**
     * The whole request body, read on first call and kept.
     *
     * @throws dev.keel.model.ApiException 413 when it is over the server's limit, whatever its declared length
     */
    byte[] body();

    <T> T attribute(String name);

    void attribute(String name, Object value);

    int status();

    void status(int status);

    /** Sets a response header (replacing one of that name). */
    void header(String name, String value);

    void contentType(String type);

    /** The response body; its first write sends the status and headers. */
    OutputStream output() throws IOException;

    /** Writes a whole body with its length (so the connection stays reusable). */
    void send(int status, String contentType, byte[] body) throws IOException;

    /** Sets an error response, which a later error mapping may still replace (Javalin's 404 text, say). */
    void error(int status, byte[] json);

    /** Jetty's request underneath, for when it began and on which connection; null outside Jetty (a test's mock). */
    Request jettyRequest();

    /** A Javalin request as an exchange: a view, so it may be made as often as needed. */
    static Exchange of(Context ctx) {
        return new JavalinExchange(ctx);
    }

    /** {@link Exchange} over Javalin's context; state lives in the context. */
    record JavalinExchange(Context ctx) implements Exchange {
        @Override
        public String method() {
            return ctx.method().name();
        }

        @Override
        public String path() {
            return ctx.path();
        }

        @Override
        public String header(String name) {
            return ctx.header(name);
        }

        @Override
        public List<String> headers(String name) {
            java.util.Enumeration<String> values = ctx.req().getHeaders(name);
            return values == null ? List.of() : Collections.list(values);
        }

        @Override
        public long declaredLength() {
            return ctx.req().getContentLengthLong(); // Javalin's int contentLength() is -1 past 2 GB
        }

        @Override
        public byte[] body() {
            return ctx.bodyAsBytes();
        }

        @Override
        public <T> T attribute(String name) {
            return ctx.attribute(name);
        }

        @Override
        public void attribute(String name, Object value) {
            ctx.attribute(name, value);
        }

        @Override
        public int status() {
            return ctx.statusCode();
        }

        @Override
        public void status(int status) {
            ctx.status(status);
        }

        @Override
        public void header(String name, String value) {
            ctx.header(name, value);
        }

        @Override
        public void contentType(String type) {
            ctx.res().setContentType(type);
        }

        @Override
        public OutputStream output() throws IOException {
            return ctx.res().getOutputStream();
        }

        /** Straight to the response rather than through Javalin's result stream, which copies it through a fresh buffer. */
        @Override
        public void send(int status, String contentType, byte[] body) throws IOException {
            ctx.status(status).contentType(contentType);
            ctx.res().setContentLength(body.length);
            ctx.res().getOutputStream().write(body);
        }

        @Override
        public void error(int status, byte[] json) {
            ctx.status(status).contentType("application/json").result(json);
        }

        @Override
        public Request jettyRequest() {
            return ServletContextRequest.getServletContextRequest(ctx.req());
        }
    }
}
