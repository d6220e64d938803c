package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.agent.CorpusTools;
import dev.keel.agent.McpServing;
import dev.keel.gateway.ChatGateway;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code keel mcp}: the data directory's corpus as MCP tools ({@code search_docs}, {@code answer_from_docs}) on
 * stdio, for IDEs and desktop assistants that launch their MCP servers as commands. Stdout carries nothing but the
 * protocol (everything else Java would print there goes to stderr, with the logs); it serves one tenant
 * ({@code --tenant}) as the local user, and ends when the client closes stdin.
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
        description = "Serve the corpus as MCP tools (search_docs, answer_from_docs) on stdin/stdout, for IDEs and desktop assistants.")
final class McpCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        OutputStream protocol = new FileOutputStream(FileDescriptor.out);
        System.setOut(System.err);
        CountDownLatch closed = new CountDownLatch(1);
        try (Keel keel = common.open()) {
            ChatGateway.Caller caller = new ChatGateway.Caller(common.tenant, null);
            StdioServerTransportProvider transport = new StdioServerTransportProvider(McpServing.JSON, new EndSignalling(closed), protocol);
            McpSyncServer server = McpServer.sync(transport).serverInfo("keel", "keel").jsonMapper(McpServing.JSON).validateToolInputs(false)
                    .instructions("Search and answer from this Keel's documents; cite passages by their citation id.")
                    .tools(McpServing.sessions(CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard()), caller, keel.traces()))
                    .build();
            closed.await();
            server.closeGracefully();
        }
        return 0;
    }

    /** Stdin, telling {@code closed} when it ends (the client went away). */
    private static final class EndSignalling extends FilterInputStream {
        private final CountDownLatch closed;

        EndSignalling(CountDownLatch closed) {
            super(new FileInputStream(FileDescriptor.in));
            this.closed = closed;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return ended(super.read(b, off, len));
            } catch (IOException e) {
                closed.countDown();
                throw e;
            }
        }

        private int ended(int n) {
            if (n < 0) closed.countDown();
            return n;
        }
    }
}
