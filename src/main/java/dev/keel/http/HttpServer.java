package dev.keel.http;

import dev.keel.Keel;
import dev.keel.config.ServerConfig;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Database;
import dev.keel.store.StoreException;
import dev.keel.trace.Trace;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.router.Endpoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keel's HTTP API on Javalin (Jetty 12, virtual threads). Every response carries
 * {@code x-keel-trace-id}; errors use OpenAI's error shape and never include a stack trace.
 * Until API keys arrive, the tenant comes from the {@code X-Keel-Tenant} header (default
 * {@code default}), which is why the server binds to localhost by default; {@link OriginGuard} keeps
 * other web pages out. Request bodies of {@code POST} routes must be JSON (the document upload also takes
 * multipart). No metric label comes from client input: requests no route matches share one series.
 * {@code /metrics} and the details of {@code /health/ready} need {@code server.metrics_token} or the admin key
 * when a metrics token is set, any API key exists, or the server listens beyond loopback.
 */
public final class HttpServer implements AutoCloseable {
    static final String TRACE_ATTR = "keel.trace";
    static final String KEY_ATTR = "keel.key";
    /** Set when the admin key called a route that admits it ({@link EvalRoutes#ONLINE_PATH}): it names the tenant it reads. */
    static final String ADMIN_ATTR = "keel.admin";
    static final String TENANT_PATTERN = "[A-Za-z0-9._-]{1,64}";
    private static final String PERMIT_ATTR = "keel.permit";
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);
    private static final int ACCEPT_BACKLOG = 4096;
    /** Platform threads for Jetty's acceptor and selectors (requests themselves run on virtual threads). */
    private static final int PLATFORM_THREADS = 16;
    /** The trace name (and metric series) of every request no route matched, whatever its method and path. */
    static final String UNMATCHED = "unmatched";
    /** The tenant of a request's trace until a key names one; not a tenant a key can have ({@link #TENANT_PATTERN}). */
    static final String UNAUTHENTICATED = "(unauthenticated)";
    /** The trace name of every console file served. */
    private static final String STATIC = "console file";
    private static final Set<String> BODY_METHODS = Set.of("POST", "PUT", "PATCH");

    private final Keel keel;
    private final Javalin app;
    private final java.util.concurrent.Semaphore inFlight;
    private final OriginGuard origins;
    private final BearerSecret metricsToken, adminKey;
    private final boolean operationalDetailsOpen;
    private final long maxBodyBytes;

    public HttpServer(Keel keel) {
        this.keel = keel;
        var server = keel.config().server();
        this.inFlight = new java.util.concurrent.Semaphore(server.maxConcurrentRequests());
        this.origins = new OriginGuard(server);
        this.metricsToken = BearerSecret.of(server.metricsToken());
        this.adminKey = BearerSecret.of(server.adminKey());
        this.operationalDetailsOpen = operationalDetailsOpen(server);
        this.maxBodyBytes = server.maxBodyBytes();
        DocumentRoutes documents = new DocumentRoutes(keel);
        QueryRoutes queries = new QueryRoutes(keel);
        ChatRoutes chat = new ChatRoutes(keel.gateway());
        ResponseRoutes responses = new ResponseRoutes(new dev.keel.gateway.ResponsesGateway(keel.gateway()), server.heartbeatSeconds());
        UsageRoutes usage = new UsageRoutes(keel.ledger());
        AdminRoutes admin = new AdminRoutes(keel.keys(), adminKey, keel.config().guard().policies().keySet());
        GuardRoutes guards = new GuardRoutes(keel.guard(), keel.gateway());
        EmbeddingRoutes embeddings = new EmbeddingRoutes(keel.embedder(), dev.keel.config.EmbedConfig.BGE_SMALL, keel.gateway());
        app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.jetty.threadPool = serverThreads();
            config.http.maxRequestSize = server.maxBodyBytes();
            config.jetty.multipartConfig.maxFileSize(server.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(server.maxBodyBytes(), io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxInMemoryFileSize(8 * 1024 * 1024, io.javalin.config.SizeUnit.BYTES);
            // Our own connector so that the listen backlog is deep: the JVM's default of 50 drops SYNs when
            // a burst of clients connects at once, and they then wait seconds for TCP's retransmit.
            config.jetty.addConnector((jetty, http) -> {
                // Jetty's per-connection cache of header fields looked each header up in a trie: ~4% of a proxied request's
                // CPU at maximum throughput (JFR), and without it Keel spent 0.140-0.142 ms CPU per request against
                // 0.158-0.171 (bench gateway --parts max, alternating runs). A header is a small allocation instead.
                http.setHeaderCacheSize(0);
                ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http)) {
                    @Override
                    protected org.eclipse.jetty.io.SocketChannelEndPoint newEndPoint(java.nio.channels.SocketChannel channel,
                            org.eclipse.jetty.io.ManagedSelector selector, java.nio.channels.SelectionKey key) {
                        ArrivalEndPoint endPoint = new ArrivalEndPoint(channel, selector, key, getScheduler());
                        endPoint.setIdleTimeout(getIdleTimeout());
                        return endPoint;
                    }
                };
                connector.setHost(server.host());
                connector.setPort(server.port());
                connector.setAcceptQueueSize(ACCEPT_BACKLOG);
                return connector;
            });
            config.jetty.modifyServer(jetty -> {
                jetty.setErrorHandler(new JsonErrorHandler());
                // Javalin mounts its servlet context inside this handler, which serves the gateway's hot route itself.
                jetty.setHandler(new HotRoute(this, chat, server.maxBodyBytes()));
            });
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.staticFiles.add(staticFiles -> {
                staticFiles.hostedPath = "/console";
                staticFiles.directory = "/console";
                staticFiles.location = io.javalin.http.staticfiles.Location.CLASSPATH;
            });
            config.routes.before(ctx -> {
                Exchange exchange = Exchange.of(ctx);
                if (begin(exchange)) {
                    end(exchange);
                    ctx.skipRemainingHandlers();
                }
            });
            io.javalin.http.Handler authenticate = ctx -> authenticate(Exchange.of(ctx)), admit = ctx -> admit(Exchange.of(ctx));
            config.routes.before("/v1/*", authenticate);
            config.routes.before("/v1/*", admit);
            config.routes.beforeMatched(ctx -> {
                Endpoint route = ctx.endpoints().matchedHttpEndpoint();
                if (route == null) {
                    trace(ctx).rename(STATIC);
                    return;
                }
                matched(Exchange.of(ctx), route.method.name() + " " + route.path);
            });
            config.routes.after(ctx -> end(Exchange.of(ctx)));
            config.routes.get("/", ctx -> ctx.redirect("/console/"));
            config.routes.get("/health/live", ctx -> json(ctx, 200, Map.of("status", "ok")));
            config.routes.get("/health/ready", this::ready);
            config.routes.get("/metrics", this::metrics);
            config.routes.get("/v1/traces/{id}", this::getTrace);
            documents.register(config.routes);
            queries.register(config.routes);
            chat.register(config.routes);
            responses.register(config.routes);
            embeddings.register(config.routes);
            guards.register(config.routes);
            usage.register(config.routes);
            admin.register(config.routes);
            new EvalRoutes(keel.onlineEvaluation()).register(config.routes);
            if (keel.config().agents().mcpEndpoint()) new McpEndpoint(keel).register(config.routes, authenticate, admit);
            new AgentRoutes(keel.agents(), server.heartbeatSeconds()).register(config.routes);
            // Javalin answers its own HttpResponseException in plain text unless that class has a handler of its own.
            config.routes.exception(HttpResponseException.class, (e, ctx) -> fail(Exchange.of(ctx), e));
            config.routes.exception(Exception.class, (e, ctx) -> fail(Exchange.of(ctx), e));
            config.routes.error(404, ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty() || ctx.result().equals("Endpoint " + ctx.method() + " " + ctx.path() + " not found")) {
                    unknownRoute(Exchange.of(ctx));
                }
            });
            config.routes.error(405, ctx -> error(ctx, 405, "invalid_request_error", "method " + ctx.method() + " not allowed on " + ctx.path(), null, null));
        });
    }

    /** Starts listening, then resumes the agent runs a stopped process left running; returns the bound port (useful with port 0). */
    public int start() {
        var server = keel.config().server();
        checkCanListen(server);
        app.start();
        keel.agents().resumeInterrupted();
        return app.port();
    }

    /**
     * Refuses, with a message that says what to do, a server that could not start: off loopback without an admin
     * key, or on a port that is taken. {@link #start} checks it; a command with work before serving checks it first.
     */
    public static void checkCanListen(ServerConfig server) {
        if (!server.loopbackOnly() && server.adminKey() == null) {
            throw new IllegalArgumentException("listening on " + server.host() + " requires KEEL_ADMIN_KEY (or server.admin_key) so API keys can be"
                    + " created; every /v1 request then needs a key. Bind to 127.0.0.1 for open local use.");
        }
        requirePortFree(server.host(), server.port());
    }

    /** A taken port is a user's mistake to name plainly, before Javalin logs it as a startup failure with a stack trace. */
    private static void requirePortFree(String host, int port) {
        if (port == 0) return;
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, port));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot listen on " + host + ":" + port + " (" + (e instanceof java.net.BindException
                    ? "the port is in use, perhaps by another Keel" : "the address is not available here") + "); choose another with --port or server.port");
        }
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    static Trace trace(Context ctx) {
        return ctx.attribute(TRACE_ATTR);
    }

    static Trace trace(Exchange exchange) {
        return exchange.attribute(TRACE_ATTR);
    }

    /**
     * Nanoseconds (on {@link System#nanoTime()}'s clock) since Keel's selector saw the request's first bytes arrive
     * ({@link ArrivalEndPoint}; when Jetty began reading it if that sighting is not the request's own), before any
     * handler ran; since the trace started when the request is not Jetty's.
     */
    static long elapsedNanos(Exchange exchange) {
        org.eclipse.jetty.server.Request request = exchange.jettyRequest();
        if (request == null) return (long) (trace(exchange).elapsedMs() * 1e6);
        long begin = request.getBeginNanoTime();
        long start = request.getConnectionMetaData().getConnection().getEndPoint() instanceof ArrivalEndPoint endPoint ? endPoint.arrivalNanos(begin) : begin;
        return System.nanoTime() - start;
    }

    static String tenant(Context ctx) {
        return tenant(Exchange.of(ctx));
    }

    static String tenant(Exchange exchange) {
        ApiKey key = exchange.attribute(KEY_ATTR);
        if (key != null) return key.tenant();
        String t = exchange.header("X-Keel-Tenant");
        if (t == null || t.isBlank()) return Keel.DEFAULT_TENANT;
        if (!t.matches(TENANT_PATTERN)) throw ApiException.badRequest("X-Keel-Tenant must be 1-64 letters, digits, '.', '_' or '-'", "X-Keel-Tenant");
        return t;
    }

    static void json(Context ctx, int status, Object body) {
        send(ctx, status, "application/json", Json.bytes(body));
    }

    static void send(Context ctx, int status, String contentType, byte[] body) {
        send(Exchange.of(ctx), status, contentType, body);
    }

    /** Writes a whole body with its length (so the connection stays reusable). A client that has gone away is noted on the trace, not raised. */
    static void send(Exchange exchange, int status, String contentType, byte[] body) {
        try {
            exchange.send(status, contentType, body);
        } catch (java.io.IOException e) {
            Trace t = trace(exchange);
            if (t != null) t.attr(Trace.CLIENT_DISCONNECTED, true);
        }
    }

    /**
     * Runs a route with the steps Javalin's hooks run around every other {@code /v1} route ({@link #begin},
     * {@link #authenticate}, {@link #admit}, {@link #matched}, failures through {@link #fail}, {@link #end}):
     * for {@link HotRoute}, which serves its route without Javalin.
     */
    void serve(Exchange exchange, String route, Route handler) {
        try {
            if (begin(exchange)) return;
            authenticate(exchange);
            admit(exchange);
            matched(exchange, route);
            handler.handle(exchange);
        } catch (Exception e) {
            fail(exchange, e);
        } catch (StackOverflowError e) {
            // Input nested past what some library's recursion can take: the request fails, the server goes on (no stack in the log).
            String traceId = traceId(exchange);
            LOG.error("stack overflow serving {} {} (trace {})", exchange.method(), exchange.path(), traceId);
            internalError(exchange, traceId);
        } finally {
            // Whatever was thrown, even an Error that goes on to Jetty: the slot and the trace must not outlive the request.
            end(exchange);
        }
    }

    /** A route {@link #serve} runs. */
    @FunctionalInterface
    interface Route {
        void handle(Exchange exchange) throws Exception;
    }

    /**
     * Every request gets a trace (renamed to its route once matched; continuing the caller's W3C trace
     * context when it sent one), passes the {@link OriginGuard} and has the body limit checked before reading.
     * Returns true when that answered it: a CORS preflight, which needs nothing more.
     */
    private boolean begin(Exchange exchange) {
        // Once keys are required only a key names the tenant: an anonymous request must not file its trace under another's.
        String tenant = keysRequired() ? UNAUTHENTICATED : tenantOrDefault(exchange);
        Trace trace = keel.traces().start(UNMATCHED, tenant, traceparent(exchange), tracestate(exchange));
        exchange.attribute(TRACE_ATTR, trace);
        exchange.header("x-keel-trace-id", trace.id());
        if (origins.admit(exchange)) return true;
        long declared = exchange.declaredLength();
        if (declared > maxBodyBytes) throw tooLarge(declared + " bytes", maxBodyBytes);
        return false;
    }

    /** A request body over {@code server.max_body_bytes}: 413. */
    static ApiException tooLarge(String size, long maxBody) {
        return new ApiException(413, "request_too_large", "request body of " + size + " is over the limit of " + maxBody
                + " bytes (server.max_body_bytes)", null, "body_too_large");
    }

    /** The caller's {@code traceparent}; none when it sent several, which W3C Trace Context makes invalid. */
    private static String traceparent(Exchange exchange) {
        List<String> values = exchange.headers("traceparent");
        return values.size() == 1 ? values.get(0) : null;
    }

    /** The caller's {@code tracestate}, its header lines joined as one list (as the specification allows). */
    private static String tracestate(Exchange exchange) {
        List<String> values = exchange.headers("tracestate");
        return values.isEmpty() ? null : String.join(",", values);
    }

    /** The request matched {@code route} ("METHOD path"): its trace takes the route's name, and its body must be of a type the route takes. */
    private static void matched(Exchange exchange, String route) {
        trace(exchange).rename(route);
        requireBodyType(exchange, route);
    }

    /** A route that takes a body takes JSON; the document upload also multipart. A browser cannot send JSON cross-site without a preflight. */
    private static void requireBodyType(Exchange exchange, String route) {
        if (!BODY_METHODS.contains(exchange.method())) return;
        String encoding = exchange.header("Content-Encoding");
        if (encoding != null && !encoding.isBlank() && !encoding.strip().equalsIgnoreCase("identity")) {
            throw new ApiException(415, "invalid_request_error", "request bodies are not decompressed: send the body without Content-Encoding '"
                    + clip(encoding) + "'", null, "unsupported_content_encoding");
        }
        String type = Json.mediaType(exchange);
        String charset = Json.charset(exchange);
        if (charset != null && !charset.equalsIgnoreCase("utf-8")) {
            throw new ApiException(415, "invalid_request_error", "unsupported charset '" + clip(charset) + "'; request bodies are UTF-8", null,
                    "unsupported_media_type");
        }
        if (Json.isJson(type)) return;
        // A POST without a body (a run's /confirm, say) has nothing to type.
        if (type.isEmpty() && exchange.declaredLength() <= 0 && exchange.header("transfer-encoding") == null) return;
        boolean upload = route.equals("POST " + DocumentRoutes.UPLOAD_PATH);
        if (upload && type.equals(DocumentRoutes.MULTIPART)) return;
        throw new ApiException(415, "invalid_request_error", "unsupported request content type '" + (type.isEmpty() ? "(none)" : clip(type))
                + "'; send application/json" + (upload ? " or " + DocumentRoutes.MULTIPART : ""), null, "unsupported_media_type");
    }

    /** Answers a request that failed, whichever way: the error shape, with the status its cause calls for. */
    private void fail(Exchange exchange, Exception e) {
        switch (e) {
            case ApiException api -> {
                if (api.retryAfterSeconds() > 0) exchange.header("Retry-After", Long.toString(api.retryAfterSeconds()));
                error(exchange, api.status(), api.type(), api.getMessage(), api.param(), api.code());
            }
            case dev.keel.model.ProviderException provider -> ChatRoutes.error(exchange, provider);
            case dev.keel.index.IndexException index -> {
                // The details (engine, node address) are the operator's: logged, not shown to callers.
                LOG.warn("index unavailable: {}", index.getMessage());
                error(exchange, 503, typeOf(503), "the search index is unavailable; try again shortly", null, "index_unavailable");
            }
            // Javalin's own 404 for a path or method no route serves: the same answer as the error mapper's.
            case HttpResponseException http when http.getStatus() == 404 -> unknownRoute(exchange);
            // Javalin's own 413 for a body of undeclared length that passed the limit as it was read: the same answer as a declared one's.
            case HttpResponseException http when http.getStatus() == 413 -> fail(exchange, tooLarge("more than " + maxBodyBytes + " bytes", maxBodyBytes));
            case HttpResponseException http -> error(exchange, http.getStatus(), typeOf(http.getStatus()), http.getMessage(), null, null);
            case StoreException store -> storeUnavailable(store, exchange);
            default -> unhandled(e, exchange);
        }
    }

    /** 404 for a method and path no route serves, quoting them cut short. */
    private static void unknownRoute(Exchange exchange) {
        error(exchange, 404, "not_found_error", "no route " + clip(exchange.method() + " " + exchange.path()), null, "unknown_route");
    }

    /** The id of the request's trace, for messages that point to the server log; "none" before it has one. */
    private static String traceId(Exchange exchange) {
        Trace t = trace(exchange);
        return t == null ? "none" : t.id();
    }

    /** 500 naming the request's trace, never what failed (the log has that). */
    private static void internalError(Exchange exchange, String traceId) {
        error(exchange, 500, "server_error", "internal error; see the server log (trace " + traceId + ")", null, null);
    }

    /** The metadata store failed (a shared one is down or timed out): the client may retry; what failed is in the log, not the response. */
    private void storeUnavailable(StoreException e, Exchange exchange) {
        String traceId = traceId(exchange);
        LOG.error("store error on {} {} (trace {}): {}", exchange.method(), exchange.path(), traceId, e.getMessage());
        error(exchange, 503, typeOf(503), "the metadata store is unavailable; retry later (trace " + traceId + ")", null, "store_unavailable");
    }

    /**
     * Anything no route classified. A request Jetty could not read (a malformed multipart body, say) is the
     * client's error, with its status; anything else is a 500 naming the server's trace, never the exception.
     */
    private void unhandled(Exception e, Exchange exchange) {
        HttpException unreadable = null;
        boolean timedOut = false, clientGone = false;
        for (Throwable t = e; t != null && unreadable == null; t = t.getCause()) {
            if (t instanceof HttpException h && h.getCode() >= 400 && h.getCode() < 500) unreadable = h;
            timedOut |= t instanceof java.util.concurrent.TimeoutException;
            clientGone |= t instanceof org.eclipse.jetty.io.EofException;
        }
        if (unreadable == null && timedOut) {
            error(exchange, 408, "invalid_request_error", "the request did not arrive in time (the connection sat idle past its timeout)", null,
                    "request_timeout");
            return;
        }
        if (unreadable == null && clientGone) {
            // The client closed the connection: nobody reads an answer, and it is not the server's error to log.
            Trace t = trace(exchange);
            if (t != null) t.attr(Trace.CLIENT_DISCONNECTED, true);
            error(exchange, 400, "invalid_request_error", "the connection closed before the exchange completed", null, "client_disconnected");
            return;
        }
        if (unreadable != null && unreadable.getCode() == 400 && Json.mediaType(exchange).equals(DocumentRoutes.MULTIPART)) {
            error(exchange, 400, "invalid_request_error", "malformed " + DocumentRoutes.MULTIPART + " body: check the boundary parameter and the part framing",
                    null, "malformed_multipart");
            return;
        }
        if (unreadable != null) {
            int status = unreadable.getCode();
            error(exchange, status, typeOf(status), JsonErrorHandler.readFailureMessage(status), null, JsonErrorHandler.readFailureCode(status));
            return;
        }
        String traceId = traceId(exchange);
        LOG.error("unhandled error on {} {} (trace {})", exchange.method(), exchange.path(), traceId, e);
        internalError(exchange, traceId);
    }

    /**
     * Bounds the API requests in progress: past the limit a request is refused at once, cheaply,
     * instead of queueing until memory and latency run away. Health and metrics stay outside it.
     */
    private void admit(Exchange exchange) {
        // A JSON body is read before a slot is taken, so clients that send their bodies slowly cannot hold every slot.
        if (Json.isJson(Json.mediaType(exchange)) && BODY_METHODS.contains(exchange.method())) exchange.body();
        if (!inFlight.tryAcquire()) {
            throw new ApiException(503, "server_overloaded", "the server is at its limit of " + keel.config().server().maxConcurrentRequests()
                    + " concurrent requests (server.max_concurrent_requests); retry shortly", null, "overloaded").retryAfter(1);
        }
        exchange.attribute(PERMIT_ATTR, Boolean.TRUE);
    }

    private void end(Exchange exchange) {
        if (exchange.attribute(PERMIT_ATTR) != null) {
            exchange.attribute(PERMIT_ATTR, null);
            inFlight.release();
        }
        Trace t = trace(exchange);
        if (t == null) return;
        t.attr("http.status", exchange.status());
        if (exchange.status() >= 500) t.fail("http_" + exchange.status());
        t.finish();
    }

    /**
     * Resolves the caller's API key. Keys are required unless none was ever created and the server
     * only listens on this machine (the documented local default).
     */
    private void authenticate(Exchange exchange) {
        if (exchange.path().equals(EvalRoutes.ONLINE_PATH) && adminKey.presentedBy(exchange)) {
            exchange.attribute(ADMIN_ATTR, Boolean.TRUE);
            return;
        }
        String secret = bearer(exchange);
        if (!secret.isEmpty()) {
            ApiKey key = keel.keys().authenticate(secret).orElse(null);
            if (key != null) {
                exchange.attribute(KEY_ATTR, key);
                trace(exchange).attr("key", key.id());
                trace(exchange).assignTenant(key.tenant());
                return;
            }
            if (keysRequired()) {
                throw new ApiException(401, "authentication_error", "invalid or revoked API key", null, "invalid_api_key");
            }
            return;
        }
        if (keysRequired()) {
            throw new ApiException(401, "authentication_error", "missing API key: send 'Authorization: Bearer sk-keel-…'", null, "missing_api_key");
        }
    }

    /** Whether {@code /v1} requests need a key: once any was created, or when the server listens beyond this machine. */
    private boolean keysRequired() {
        return keel.keys().anyCreated() || !keel.config().server().loopbackOnly();
    }

    /** The bearer token of the Authorization header, or "" when there is none. */
    static String bearer(Exchange exchange) {
        String auth = exchange.header("Authorization");
        return auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : "";
    }

    private static String tenantOrDefault(Exchange exchange) {
        try {
            return tenant(exchange);
        } catch (ApiException e) {
            return Keel.DEFAULT_TENANT;
        }
    }

    /** Whether the configuration leaves metrics and readiness details open on loopback (until an API key exists). */
    static boolean operationalDetailsOpen(dev.keel.config.ServerConfig server) {
        return server.metricsToken() == null && server.loopbackOnly();
    }

    /**
     * Open only on loopback with no token and no API key: once keys make tenants real, an index-wide chunk
     * count or request counters would let one tenant watch another's activity.
     */
    private boolean mayReadOperationalDetails(Context ctx) {
        return (operationalDetailsOpen && !keel.keys().anyCreated()) || metricsToken.presentedBy(ctx) || adminKey.presentedBy(ctx);
    }

    private void metrics(Context ctx) {
        if (!mayReadOperationalDetails(ctx)) {
            throw new ApiException(401, "authentication_error", "/metrics needs 'Authorization: Bearer <server.metrics_token>' (or the admin key)",
                    null, "metrics_token_required");
        }
        send(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", keel.traces().scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * Readiness; its details (chunks, model, provider states, reranker fallbacks, span export, the failure) only for those who may
     * read metrics. A collector that is down does not make Keel unready: export is best-effort.
     */
    private void ready(Context ctx) {
        Map<String, Object> body = new LinkedHashMap<>(), details = new LinkedHashMap<>();
        int status = 200;
        try {
            details.put("chunks", keel.index().chunkCount());
            details.put("embed_model", keel.index().embedModel());
            Map<String, Object> index = keel.index().health();
            if (!index.isEmpty()) details.put("index", index);
            details.put("providers", keel.gateway().providerStates());
            if (keel.database().shared()) {
                Database.Health store = keel.database().health();
                details.put("store", Map.of("kind", store.kind(), "address", store.address(), "reachable", store.reachable()));
                if (!store.reachable()) throw new IllegalStateException("the store (" + store.kind() + " at " + store.address() + ") does not answer");
            }
            Map<String, Object> reranker = keel.answers().rerankers().health();
            if (!reranker.isEmpty()) details.put("reranker", reranker);
            // Redis down does not take a replica out of rotation: every replica shares it, and the limits' policies decide what still runs.
            keel.redis().ifPresent(r -> details.put("redis", r.health()));
            Map<String, Object> telemetry = keel.traces().exportHealth();
            if (!telemetry.isEmpty()) details.put("telemetry", telemetry);
            // Like Redis: while PostgreSQL is away the other checks fail readiness; the semantic cache itself only serves this replica's copy.
            keel.sharedSemanticCache().ifPresent(c -> details.put("semantic_cache", Map.of("shared", "postgresql", "status", c.following() ? "up" : "down")));
            body.put("status", "ready");
        } catch (RuntimeException e) {
            status = 503;
            details.put("reason", e.getMessage()); // with what was found before the failing check (the store's address and state…)
            body.put("status", "not_ready");
        }
        if (mayReadOperationalDetails(ctx)) body.putAll(details);
        json(ctx, status, body);
    }

    private void getTrace(Context ctx) {
        byte[] trace = keel.traces().findJson(ctx.pathParam("id"), tenant(ctx))
                .orElseThrow(() -> ApiException.notFound("no trace " + ctx.pathParam("id") + " (traces are kept for an hour)"));
        send(ctx, 200, "application/json", trace);
    }

    static void error(Context ctx, int status, String type, String message, String param, String code) {
        error(Exchange.of(ctx), status, type, message, param, code);
    }

    static void error(Exchange exchange, int status, String type, String message, String param, String code) {
        Trace t = trace(exchange);
        if (t != null) t.attr("error.type", type);
        exchange.error(status, Json.bytes(errorBody(type, message, param, code)));
    }

    /** The API's error shape, {@code {"error":{"type","message","param","code"}}}. */
    static Map<String, Object> errorBody(String type, String message, String param, String code) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("type", type);
        err.put("message", message);
        err.put("param", param);
        err.put("code", code);
        return Map.of("error", err);
    }

    /** The error type of a status when nothing more specific is known. */
    static String typeOf(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    /** Client text quoted in an error message, cut to a readable length. */
    private static String clip(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "…";
    }

    /** Every route, as "METHOD path" (for the hostile-request tests, which probe each one). */
    List<String> routes() {
        return app.unsafe.internalRouter.allHttpHandlers().stream().map(p -> p.endpoint).filter(e -> e.method.isHttpMethod())
                .map((Endpoint e) -> e.method.name() + " " + e.path).toList();
    }

    /**
     * Jetty's acceptor and selectors on platform threads, each request on a virtual thread. Javalin's own virtual-thread
     * pool runs the selectors on virtual threads too, so every readiness event first woke the JDK's poller thread and
     * then a carrier for the selector before the request's own thread (measured: a lone request's added latency).
     */
    private static org.eclipse.jetty.util.thread.QueuedThreadPool serverThreads() {
        var threads = new org.eclipse.jetty.util.thread.QueuedThreadPool(PLATFORM_THREADS, 2);
        threads.setName("keel-http");
        threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        return threads;
    }
}
