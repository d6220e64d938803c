package dev.keel.http;

import dev.keel.Keel;
import dev.keel.agent.CorpusTools;
import dev.keel.agent.McpServing;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.ApiException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.BufferedReader;
import java.io.PrintWriter;
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
 *
 * <p>A client's mistake is never a 500 nor an ERROR log: a body that is not one JSON-RPC message is refused with 400
 * in Keel's error shape, a request whose {@code params} its method cannot take gets JSON-RPC's invalid-params error
 * ({@link McpServing#screen}), both logged at DEBUG; a notification is accepted (202) and needs nothing more.
 */
final class McpEndpoint {
    static final String PATH = "/mcp";
    /** The request attribute that hands the call's caller and trace to the transport's context extractor. */
    private static final String CONTEXT = "keel.mcp.context";
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(McpEndpoint.class);
    private final HttpServletStatelessServerTransport transport;
    private final java.util.List<dev.keel.agent.Tool> tools;

    McpEndpoint(Keel keel) {
        long maxBody = keel.config().server().maxBodyBytes();
        transport = HttpServletStatelessServerTransport.builder().jsonMapper(McpServing.JSON).messageEndpoint(PATH)
                .maxRequestSize((int) Math.min(Integer.MAX_VALUE, maxBody))
                .contextExtractor(request -> (io.modelcontextprotocol.common.McpTransportContext) request.getAttribute(CONTEXT)).build();
        tools = CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard());
        McpServer.sync(transport).serverInfo(McpServing.NAME, McpServing.VERSION).jsonMapper(McpServing.JSON).immediateExecution(true)
                .validateToolInputs(false).instructions(McpServing.INSTRUCTIONS).tools(McpServing.stateless(tools)).build();
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
        McpServing.Inbound inbound = ctx.method() == io.javalin.http.HandlerType.POST ? McpServing.screen(ctx.bodyAsBytes()) : null;
        if (inbound instanceof McpServing.Refusal refused) {
            LOG.debug("/mcp refused a message (JSON-RPC {}): {}", refused.code(), refused.message());
            // A request whose params do not fit is answered in JSON-RPC, as the SDK answers a call of an unknown tool.
            if (refused.code() != McpServing.Refusal.INVALID_PARAMS) {
                throw new ApiException(400, HttpServer.typeOf(400), "invalid MCP request: " + refused.message(), null, "invalid_mcp_request");
            }
            HttpServer.send(ctx, 200, "application/json", refused.response());
            return;
        }
        if (inbound instanceof McpServing.Accepted accepted && accepted.notification()) {
            // Stateless: no notification has anything to act on (a cancellation's request runs on another connection, or replica).
            ctx.status(202);
            return;
        }
        ChatGateway.Caller caller = new ChatGateway.Caller(HttpServer.tenant(ctx), ctx.attribute(HttpServer.KEY_ATTR), null, ChatRoutes.cost(Exchange.of(ctx)));
        ctx.req().setAttribute(CONTEXT, McpServing.context(caller, HttpServer.trace(ctx)));
        // Keel's admission already read the body (to bound slow senders); the transport reads it again from here.
        Captured response = new Captured(ctx.res());
        transport.service(new ReadBody(ctx.req(), ctx.bodyAsBytes()), response);
        response.flushBuffer();
        if (response.status < 400) {
            HttpServer.send(ctx, response.status, response.type == null ? "application/json" : response.type,
                    McpServing.clarified(response.body.toByteArray(), tools));
            return;
        }
        // The SDK writes a refused request's error as the serialised exception, stack trace included: never sent, its message only.
        throw new ApiException(response.status, HttpServer.typeOf(response.status), refusal(response.body.toByteArray()), null, "invalid_mcp_request");
    }

    /** What the SDK said when it refused a request at the HTTP level, when that is a plain sentence; else a generic reason. */
    static String refusal(byte[] body) {
        String said;
        try {
            com.fasterxml.jackson.databind.JsonNode tree = MAPPER.readTree(body);
            said = tree.path("jsonRpcError").path("message").asText(tree.path("error").path("message").asText(tree.path("message").asText("")));
        } catch (java.io.IOException | RuntimeException e) {
            said = "";
        }
        return said.matches("[A-Za-z0-9 ,./:'()-]{1,200}") ? "invalid MCP request: " + said : "invalid MCP request";
    }

    /** The transport's response, held until it is known to be a success (sent as is) or a refusal (sent in Keel's error shape). */
    private static final class Captured extends HttpServletResponseWrapper {
        final java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        int status = 200;
        String type;
        private PrintWriter writer;

        Captured(HttpServletResponse response) {
            super(response);
        }

        @Override
        public void setStatus(int sc) {
            status = sc;
        }

        @Override
        public int getStatus() {
            return status;
        }

        @Override
        public void sendError(int sc) {
            status = sc;
        }

        @Override
        public void sendError(int sc, String msg) {
            status = sc;
        }

        @Override
        public void setContentType(String t) {
            type = t;
        }

        @Override
        public String getContentType() {
            return type;
        }

        @Override
        public void setContentLength(int len) {
        }

        @Override
        public void setContentLengthLong(long len) {
        }

        @Override
        public ServletOutputStream getOutputStream() {
            return new ServletOutputStream() {
                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                    throw new UnsupportedOperationException("the response is buffered");
                }

                @Override
                public void write(int b) {
                    body.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    body.write(b, off, len);
                }
            };
        }

        @Override
        public PrintWriter getWriter() {
            if (writer == null) writer = new PrintWriter(new java.io.OutputStreamWriter(body, StandardCharsets.UTF_8), true);
            return writer;
        }

        @Override
        public void flushBuffer() {
            if (writer != null) writer.flush();
        }
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
