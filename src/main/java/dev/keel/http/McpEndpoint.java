package dev.keel.http;

import dev.keel.Keel;
import dev.keel.agent.CorpusTools;
import dev.keel.agent.McpServing;
import dev.keel.gateway.ChatGateway;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * {@code /mcp}: Keel's corpus tools ({@link CorpusTools}: {@code search_docs}, {@code answer_from_docs}) over MCP's
 * streamable HTTP, served by the SDK's {@link HttpServletStatelessServerTransport} behind Keel's own request path:
 * the Host and Origin checks against DNS rebinding ({@link OriginGuard}, as the MCP specification requires), the body
 * limit, the same API-key authentication as {@code /v1} (the key's tenant is the only tenant a call reads; with no
 * keys, {@code X-Keel-Tenant} on loopback), the concurrency limit and a trace per request.
 *
 * <p>Stateless, deliberately: Keel runs as several replicas behind a load balancer, and the session transport keeps
 * each MCP session (and its SSE stream) in one replica's memory, so a client's next request landing on another
 * replica would fail with an unknown session unless the balancer pinned it. The two tools need no server state
 * between calls (each call carries its tenant in its credentials), so every POST is answered by whichever replica
 * gets it, with a JSON response; a GET (a server-to-client stream) is refused with 405 as the specification allows.
 */
final class McpEndpoint {
    static final String PATH = "/mcp";
    /** The request attribute that hands the call's caller and trace to the transport's context extractor. */
    private static final String CONTEXT = "keel.mcp.context";
    /** The request attribute that hands the call's caller and trace to the transport's context extractor. */    private final HttpServletStatelessServerTransport transport;

    McpEndpoint(Keel keel) {
        long maxBody = keel.config().server().maxBodyBytes();
        transport = HttpServletStatelessServerTransport.builder().jsonMapper(McpServing.JSON).messageEndpoint(PATH)
                .maxRequestSize((int) Math.min(Integer.MAX_VALUE, maxBody))
                .contextExtractor(request -> (io.modelcontextprotocol.common.McpTransportContext) request.getAttribute(CONTEXT)).build();
        McpServer.sync(transport).serverInfo("keel", "keel").jsonMapper(McpServing.JSON).immediateExecution(true).validateToolInputs(false)
                .instructions("Search and answer from this Keel's documents; cite passages by their citation id.")
                .tools(McpServing.stateless(CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard()))).build();
    }

    /** Mounts {@code /mcp} behind {@code authenticate} and {@code admit}, the checks every {@code /v1} request passes. */
    void register(RoutesConfig routes, Handler authenticate, Handler admit) {
        routes.before(PATH, authenticate);
        routes.before(PATH, admit);
        routes.post(PATH, this::serve);
        routes.get(PATH, this::serve);
        routes.delete(PATH, this::serve);
    }

    private void serve(Context ctx) throws Exception {
        ChatGateway.Caller caller = new ChatGateway.Caller(HttpServer.tenant(ctx), ctx.attribute(HttpServer.KEY_ATTR), null, ChatRoutes.cost(ctx));
        ctx.req().setAttribute(CONTEXT, McpServing.context(caller, HttpServer.trace(ctx)));
        // Keel's admission already read the body (to bound slow senders); the transport reads it again from here.
        transport.service(new ReadBody(ctx.req(), ctx.bodyAsBytes()), ctx.res());
    }

    /** The request with its body, already read, offered again. */
    private static final class ReadBody extends HttpServletRequestWrapper {
        private final byte[] body;

        ReadBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("the body is already read");
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }
    }
}
