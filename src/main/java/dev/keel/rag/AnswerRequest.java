package dev.keel.rag;

import dev.keel.gateway.ChatGateway;
import dev.keel.index.SearchFilters;

/**
 * A question for a tenant, optionally restricted by filters, answered by {@code model} (null: the
 * configured {@code answer.model}) on behalf of {@code caller}, whose key's allowance, limits and
 * budgets apply to the model call as to a chat completion (null: open local use by the tenant). A
 * conversation history, when sessions arrive, joins as one more component.
 */
public record AnswerRequest(String tenant, String question, SearchFilters filters, String model, ChatGateway.Caller caller) {
    public AnswerRequest {
        if (caller == null) caller = new ChatGateway.Caller(tenant, null);
        if (!caller.tenant().equals(tenant)) throw new IllegalArgumentException("the caller's tenant is not the request's tenant");
    }

    /** A question answered by the configured model for open local use. */
    public AnswerRequest(String tenant, String question, SearchFilters filters) {
        this(tenant, question, filters, null, null);
    }
}
