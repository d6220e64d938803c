package dev.keel.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ChatCompletion;
import dev.keel.model.CallContext;
import dev.keel.model.EmbeddingResult;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;

/**
 * One upstream chat provider speaking to a pinned model. Requests and responses are in OpenAI's
 * chat-completions shape; implementations translate their own protocol. Implementations are
 * thread-safe, never retry (that is {@link ProviderChain}'s job) and classify every failure as a
 * {@link ProviderException}.
 */
public interface ChatModel extends AutoCloseable {
    /** The provider's configured name, for traces, headers and errors. */
    String provider();

    /**
     * The protocol family it speaks, as OpenTelemetry's {@code gen_ai.provider.name} ({@code openai},
     * {@code anthropic}…); an OpenAI-compatible server (vLLM, Ollama) reports {@code openai}.
     */
    String genAiProvider();

    /**
     * {@code request} (naming the upstream model) as this provider sends it, for the trace to record what was sent;
     * {@link #complete} and {@link #stream} apply the same. Default: as it is.
     */
    default ObjectNode asSent(ObjectNode request) {
        return request;
    }

    /** A complete (non-streamed) response; {@code request} already names the upstream model. */
    ChatCompletion complete(ObjectNode request, CallContext call);

    /**
     * Streams chunks to {@code listener}; returns the usage if the provider reported it. Fails with
     * a {@link ProviderException} before the first chunk when nothing was received.
     */
    Usage stream(ObjectNode request, CallContext call, StreamListener listener);

    /**
     * Embeddings for an OpenAI-shaped {@code /embeddings} request that already names the upstream
     * model. Providers without an embeddings endpoint refuse (bad request).
     */
    default EmbeddingResult embed(ObjectNode request, CallContext call) {
        throw new ProviderException(ProviderException.Kind.BAD_REQUEST, provider(), 0, "provider '" + provider() + "' does not serve embeddings", null, null);
    }

    /**
     * The output-token limit this provider sends upstream when a request sets none (Anthropic's API
     * requires one), or empty when the upstream model's own limit applies. It bounds what a request
     * without {@code max_tokens} can cost.
     */
    default java.util.OptionalLong defaultMaxOutputTokens() {
        return java.util.OptionalLong.empty();
    }

    /** Releases connections and threads. */
    @Override
    default void close() {}
}
