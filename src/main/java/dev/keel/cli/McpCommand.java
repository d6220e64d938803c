package dev.keel.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.keel.Keel;
import dev.keel.agent.CorpusTools;
import dev.keel.agent.McpServing;
import dev.keel.agent.Tool;
import dev.keel.gateway.ChatGateway;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code keel mcp}: the data directory's corpus as MCP tools ({@code search_docs}, {@code answer_from_docs}) on
 * stdio, for IDEs and desktop assistants that launch their MCP servers as commands. Stdout carries nothing but the
 * protocol (everything else Java would print there goes to stderr, with the logs); it serves one tenant
 * ({@code --tenant}) as the local user, and ends when the client closes stdin, after answering every request it had
 * read by then (for at most {@link #DRAIN}), so {@code printf '…' | keel mcp} gets all its answers. A line that is not
 * a JSON-RPC message it can take gets JSON-RPC's error (parse error, invalid request or invalid params) and the
 * session goes on.
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
        description = "Serve the corpus as MCP tools (search_docs, answer_from_docs) on stdin/stdout, for IDEs and desktop assistants.")
final class McpCommand implements Callable<Integer> {
    /** How long requests already read may still run once stdin has closed: an answer on a loaded machine, not a hung one. */
    static final Duration DRAIN = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(McpCommand.class);

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Unanswered unanswered = new Unanswered();
        FileOutputStream stdout = new FileOutputStream(FileDescriptor.out);
        System.setOut(System.err);
        CountDownLatch closed = new CountDownLatch(1);
        try (Keel keel = common.open()) {
            ChatGateway.Caller caller = new ChatGateway.Caller(common.tenant, null);
            List<Tool> tools = CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard());
            OutputStream protocol = new Answering(stdout, unanswered, tools);
            InputStream requests = new Screened(new FileInputStream(FileDescriptor.in), protocol, unanswered, closed);
            StdioServerTransportProvider transport = new StdioServerTransportProvider(McpServing.JSON, requests, protocol);
            McpSyncServer server = McpServer.sync(transport).serverInfo(McpServing.NAME, McpServing.VERSION).jsonMapper(McpServing.JSON)
                    .validateToolInputs(false).instructions(McpServing.INSTRUCTIONS)
                    .tools(McpServing.sessions(tools, caller, keel.traces()))
                    .build();
            closed.await();
            server.closeGracefully();
        }
        return 0;
    }

    /**
     * The ids of the requests read from stdin that have no response on stdout yet. Each direction is split into lines
     * (one JSON-RPC message a line, as the stdio transport frames them); a line longer than {@link #MAX_LINE_BYTES} is
     * not tracked, so it is never waited for.
     */
    static final class Unanswered {
        /** Far above any request a client sends or response Keel writes; bounds what tracking holds in memory. */
        static final int MAX_LINE_BYTES = 16 * 1024 * 1024;
        private static final JsonFactory JSON = new JsonFactory();
        private final Set<String> ids = new HashSet<>();

        synchronized void read(byte[] line) {
            Message m = Message.of(line);
            if (m != null && m.request()) ids.add(m.id());
        }

        synchronized void written(byte[] line) {
            Message m = Message.of(line);
            if (m != null && !m.request() && ids.remove(m.id())) notifyAll();
        }

        /** Waits until every request read has its response, for at most {@code max}; the ids still unanswered then. */
        synchronized Set<String> awaitNone(Duration max) throws InterruptedException {
            long end = System.nanoTime() + max.toNanos();
            for (long left = max.toNanos(); !ids.isEmpty() && left > 0; left = end - System.nanoTime()) {
                wait(Math.max(1, left / 1_000_000));
            }
            return Set.copyOf(ids);
        }

        /** A message's top-level id (null ids are not tracked) and whether it is a request (it has a method) or a response. */
        private record Message(String id, boolean request) {
            static Message of(byte[] line) {
                String id = null;
                boolean method = false;
                try (JsonParser p = JSON.createParser(line)) {
                    if (p.nextToken() != JsonToken.START_OBJECT) return null;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken value = p.nextToken();
                        if (field.equals("method")) method = true;
                        else if (field.equals("id") && value.isScalarValue() && value != JsonToken.VALUE_NULL) id = value + ":" + p.getText();
                        p.skipChildren();
                    }
                } catch (IOException e) {
                    return null;
                }
                return id == null ? null : new Message(id, method);
            }
        }
    }

    /**
     * Stdout, one message a line: each line is written whole, with an unknown tool's error reworded
     * ({@link McpServing#clarified}), and recorded as answered so the end of stdin can wait for it. A line longer
     * than {@link Unanswered#MAX_LINE_BYTES} goes out as it comes, untouched and untracked.
     */
    private static final class Answering extends FilterOutputStream {
        private final Unanswered unanswered;
        private final List<Tool> tools;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private boolean passingThrough;

        Answering(OutputStream out, Unanswered unanswered, List<Tool> tools) {
            super(out);
            this.unanswered = unanswered;
            this.tools = tools;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    if (passingThrough) {
                        out.write('\n');
                        passingThrough = false;
                        continue;
                    }
                    byte[] message = McpServing.clarified(line.toByteArray(), tools);
                    line.reset();
                    out.write(message);
                    out.write('\n');
                    // Counted once written: a response that failed to reach the client still ends the wait, the client has gone.
                    unanswered.written(message);
                } else if (passingThrough) {
                    out.write(b[i]);
                } else {
                    line.write(b[i]);
                    if (line.size() > Unanswered.MAX_LINE_BYTES) {
                        line.writeTo(out);
                        line.reset();
                        passingThrough = true;
                    }
                }
            }
        }
    }

    /**
     * Stdin as the SDK reads it: one message a line, each screened first ({@link McpServing#screen}). A line that is
     * not a JSON-RPC message the SDK can take (the SDK would stop reading stdin for good at one that is not JSON) is
     * answered on stdout with JSON-RPC's error and never reaches the SDK; a blank line is skipped; a line over
     * {@link Unanswered#MAX_LINE_BYTES} is refused without being held in memory. Each request passed on is recorded. At
     * the end of stdin (a last line without its newline counts) it waits, at most {@link #DRAIN}, until every request
     * read is answered, and only then reports the end, to the SDK (which closes the session when it sees it) and to
     * {@code closed}.
     */
    static final class Screened extends InputStream {
        private final InputStream in;
        private final OutputStream replies;
        private final Unanswered unanswered;
        private final CountDownLatch closed;
        private final byte[] buffer = new byte[8192];
        private int buffered, read;
        private byte[] pending = new byte[0];
        private int handedOver;
        private boolean ended;

        Screened(InputStream in, OutputStream replies, Unanswered unanswered, CountDownLatch closed) {
            this.in = in;
            this.replies = replies;
            this.unanswered = unanswered;
            this.closed = closed;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            while (handedOver == pending.length) {
                if (ended) return -1;
                Line line;
                try {
                    line = nextLine();
                } catch (IOException e) {
                    ended = true;
                    closed.countDown();
                    throw e;
                }
                if (line == null) {
                    drain();
                    ended = true;
                    closed.countDown();
                    return -1;
                }
                pending = admitted(line);
                handedOver = 0;
            }
            int n = Math.min(len, pending.length - handedOver);
            System.arraycopy(pending, handedOver, b, off, n);
            handedOver += n;
            return n;
        }

        private record Line(byte[] bytes, boolean tooLong) {}

        /** The next line without its newline (or {@code \r\n}); null at the end of stdin. */
        private Line nextLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            boolean tooLong = false, any = false;
            while (true) {
                if (read == buffered) {
                    buffered = in.read(buffer);
                    read = 0;
                    if (buffered < 0) {
                        buffered = 0;
                        return any ? new Line(line.toByteArray(), tooLong) : null;
                    }
                }
                any = true;
                int start = read;
                while (read < buffered && buffer[read] != '\n') read++;
                if (!tooLong) {
                    if (line.size() + (read - start) > Unanswered.MAX_LINE_BYTES) {
                        tooLong = true;
                        line.reset();
                    } else {
                        line.write(buffer, start, read - start);
                    }
                }
                if (read < buffered) {
                    read++;
                    byte[] bytes = line.toByteArray();
                    int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new Line(java.util.Arrays.copyOf(bytes, end), tooLong);
                }
            }
        }

        /** The bytes the SDK reads for {@code line}: the line and its newline, or nothing when it is skipped or refused. */
        private byte[] admitted(Line line) throws IOException {
            McpServing.Refusal refused;
            if (line.tooLong()) {
                refused = new McpServing.Refusal(McpServing.Refusal.INVALID_REQUEST, "a message may be at most "
                        + Unanswered.MAX_LINE_BYTES / (1024 * 1024) + " MiB", null);
            } else if (new String(line.bytes(), java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
                return new byte[0];
            } else {
                refused = McpServing.screen(line.bytes()) instanceof McpServing.Refusal r ? r : null;
            }
            if (refused != null) {
                LOG.info("stdin: a message was refused (JSON-RPC {}): {}", refused.code(), refused.message());
                synchronized (replies) {
                    replies.write(refused.response());
                    replies.write('\n');
                    replies.flush();
                }
                return new byte[0];
            }
            unanswered.read(line.bytes());
            byte[] out = java.util.Arrays.copyOf(line.bytes(), line.bytes().length + 1);
            out[out.length - 1] = '\n';
            return out;
        }

        private void drain() {
            try {
                Set<String> left = unanswered.awaitNone(DRAIN);
                if (!left.isEmpty()) LOG.warn("stdin closed; {} request(s) still unanswered after {} s are dropped", left.size(), DRAIN.toSeconds());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
