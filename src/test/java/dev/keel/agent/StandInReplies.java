package dev.keel.agent;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Replies of the local servers that stand in for remote sites and APIs in the tools' tests. */
final class StandInReplies {
    private StandInReplies() {}

    /** Sends {@code body} with {@code status} and {@code type}; a client that stops reading (a size cap) is not an error. */
    static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        } catch (IOException clientStoppedReading) {
            // a tool that read max_bytes aborts the exchange: that is the behaviour under test
        }
    }

    /** A 302 to {@code location}. */
    static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }
}
