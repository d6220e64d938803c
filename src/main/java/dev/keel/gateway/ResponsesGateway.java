package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.provider.Prices;
import dev.keel.trace.Trace;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The OpenAI Responses API ({@code POST /v1/responses}) over the chat-completions path: a request
 * is translated to a chat request and served by {@link ChatGateway}, so keys, model allowances,
 * limits, budgets, fallbacks, structured-output checks, traces, cost and the ledger apply unchanged;
 * the result comes back as a response object or as the Responses event stream. Stateless: nothing is
 * stored, so {@code store} is always false and {@code previous_response_id} is refused. Errors name
 * the Responses parameter, not the chat one. Thread-safe.
 */
public final class ResponsesGateway {
    private final ChatGateway chat;

    public ResponsesGateway(ChatGateway chat) {
        this.chat = chat;
    }

    /** A response object with who served it and its cost. */
    public record Result(ObjectNode response, String provider, Prices.Cost cost) {}

    /** A finished event stream: who served it and its cost. */
    public record Streamed(String provider, Prices.Cost cost) {}

    /** Serves a non-streamed request. */
    public Result create(ObjectNode request, ChatGateway.Caller caller, Trace trace) {
        ResponsesRequest translated = ResponsesRequest.of(request);
        ChatGateway.Result served = inResponsesTerms(() -> chat.complete(translated.chat(), caller, trace));
        ObjectNode body = served.completion().body();
        JsonNode choice = body.path("choices").path(0);
        String finish = choice.path("finish_reason").asText(null);
        ObjectNode response = translated.response(ResponseItems.newId("resp"), System.currentTimeMillis() / 1000, body.path("model").asText(),
                ResponseItems.status(finish), ResponseItems.incompleteDetails(finish), null, ResponseItems.output(choice.path("message")),
                ResponseItems.usage(served.usage(), body.path("usage")));
        return new Result(response, served.provider(), served.cost());
    }

    /**
     * Streams the Responses events to {@code listener}. A failure before the first event is thrown
     * (the client gets a status code); after it, the stream ends with {@code response.failed}
     * carrying a short classified reason, and the failure is still thrown for the caller's records.
     */
    public Streamed stream(ObjectNode request, ChatGateway.Caller caller, Trace trace, StreamListener listener) {
        ResponsesRequest translated = ResponsesRequest.of(request);
        ResponseEvents events = new ResponseEvents(translated, listener);
        try {
            ChatGateway.Streamed served = inResponsesTerms(() -> chat.stream(translated.chat(), caller, trace, events::onChunk));
            events.complete(served.usage());
            return new Streamed(served.provider(), served.cost());
        } catch (ProviderException e) {
            if (events.started()) {
                events.fail("provider '" + e.provider() + "' failed after the response started (" + e.kind().name().toLowerCase()
                        + "); it was not retried");
            }
            throw e;
        }
    }

    private static <T> T inResponsesTerms(Supplier<T> call) {
        try {
            return call.get();
        } catch (ApiException e) {
            String param = responsesParam(e.param());
            if (Objects.equals(param, e.param())) throw e;
            if (!e.getMessage().contains("max_tokens")) throw e.withParam(param);
            throw new ApiException(e.status(), e.type(), e.getMessage().replace("max_tokens", "max_output_tokens"), param, e.code())
                    .retryAfter(e.retryAfterSeconds());
        }
    }

    /** The Responses parameter behind a chat parameter the gateway named in an error. */
    private static String responsesParam(String chatParam) {
        if (chatParam == null) return null;
        if (chatParam.startsWith("messages")) return "input";
        return switch (chatParam) {
            case "response_format" -> "text.format";
            case "max_tokens", "max_completion_tokens" -> "max_output_tokens";
            default -> chatParam;
        };
    }
}
