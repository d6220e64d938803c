package dev.keel.http;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error responses (a URI or headers over its limits, an unparsable request line or
 * authority: what fails before Keel's routes see the request) in the API's JSON error shape instead of
 * Jetty's HTML page. The message is the status's, never Jetty's detail. Stateless and thread-safe.
 */
final class JsonErrorHandler extends ErrorHandler {
    /** Every method gets a body, not only Jetty's GET, POST and HEAD: a PUT's client reads errors too. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        byte[] body = Json.bytes(HttpServer.errorBody(HttpServer.typeOf(code), readFailureMessage(code), null, readFailureCode(code)));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** What a client is told when its request could not be read as HTTP: the status's reason, e.g. "URI Too Long". */
    static String readFailureMessage(int status) {
        return "the request could not be read: " + HttpStatus.getMessage(status);
    }

    /** The status's reason as an error code, e.g. {@code uri_too_long}. */
    static String readFailureCode(int status) {
        return HttpStatus.getMessage(status).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    }
}
