package dev.keel.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, byte for byte as written: what a browser or an attacker sends, including
 * what {@link java.net.http.HttpClient} refuses to send (a foreign Host, a malformed request line, bad
 * bytes). One request per connection ({@code Connection: close}); the answer is read to the end.
 */
final class RawHttp {
    private static final int TIMEOUT_MS = 15_000;

    private RawHttp() {}

    /** A response: status, headers by lower-case name (last value wins), body (de-chunked). */
    record Response(int status, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Sends {@code method target} with these headers (Host defaults to 127.0.0.1:port; a null value leaves one out) and body. */
    static Response send(int port, String method, String target, Map<String, String> headers, byte[] body) throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Host", "127.0.0.1:" + port);
        all.putAll(headers);
        if (body != null && all.keySet().stream().noneMatch(k -> k.equalsIgnoreCase("Transfer-Encoding"))) all.put("Content-Length", Integer.toString(body.length));
        all.put("Connection", "close");
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes((method + " " + target + " HTTP/1.1\r\n").getBytes(StandardCharsets.UTF_8));
        all.forEach((k, v) -> {
            if (v != null) request.writeBytes((k + ": " + v + "\r\n").getBytes(StandardCharsets.UTF_8));
        });
        request.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        if (body != null) request.writeBytes(body);
        return exchange(port, request.toByteArray());
    }

    static Response send(int port, String method, String target, Map<String, String> headers, String body) throws IOException {
        return send(port, method, target, headers, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code request} exactly as given and reads the response. */
    static Response exchange(int port, byte[] request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException e) {
                // The server may answer (413, 431) and close before reading everything; its answer is what counts.
            }
            return parse(socket.getInputStream().readAllBytes());
        }
    }

    private static Response parse(byte[] raw) {
        int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
        if (headEnd < 0) throw new IllegalStateException("no complete response head in " + raw.length + " bytes: " + new String(raw, StandardCharsets.ISO_8859_1));
        List<String> lines = List.of(new String(raw, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n"));
        int status = Integer.parseInt(lines.getFirst().split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
        byte[] body = java.util.Arrays.copyOfRange(raw, headEnd + 4, raw.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) body = dechunk(body);
        return new Response(status, headers, body);
    }

    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < chunked.length) {
            int lineEnd = indexOf(chunked, "\r\n".getBytes(StandardCharsets.US_ASCII), at);
            int size = Integer.parseInt(new String(chunked, at, lineEnd - at, StandardCharsets.US_ASCII).split(";")[0].strip(), 16);
            if (size == 0) break;
            out.write(chunked, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) if (data[i + j] != pattern[j]) continue outer;
            return i;
        }
        return -1;
    }
}
