package dev.keel.rag;

import dev.keel.gateway.ChatGateway;
import dev.keel.index.SearchFilters;

/**
 * A question for a tenant, optionally restricted by filters, answered by {@code model} (null: the
 * configured {@code answer.model}) on behalf of {@code caller}, whose key's allowance, limits and
 * budgets apply to the model call as to a chat completion (null: open local use by the tenant).
 * With a {@code sessionId}, the question is read in the light of that conversation ({@link Sessions}).
 */
public record AnswerRequest(String tenant, String question, SearchFilters filters, String model, ChatGateway.Caller caller, String sessionId) {
    public AnswerRequest {
        if (caller == null) caller = new ChatGateway.Caller(tenant, null);
        if (!caller.tenant().equals(tenant)) throw new IllegalArgumentException("the caller's tenant is not the request's tenant");
        if (sessionId != null && !Sessions.isValidId(sessionId)) throw new IllegalArgumentException("session id must be " + Sessions.ID_RULE);
    }

    /** A question outside any session. */
    public AnswerRequest(String tenant, String question, SearchFilters filters, String model, ChatGateway.Caller caller) {
        this(tenant, question, filters, model, caller, null);
    }

    /** The same request as the input guard passed it: its question (placeholders for redacted values) and caller. */
    AnswerRequest screened(ChatGateway.Screened screened) {
        return new AnswerRequest(tenant, screened.question(), filters, model, screened.caller(), sessionId);
    }

    /** The same request asking {@code standalone} instead (a follow-up rewritten). */
    AnswerRequest asking(String standalone) {
        return new AnswerRequest(tenant, standalone, filters, model, caller, sessionId);
    }

    /** A question answered by the configured model for open local use. */
    public AnswerRequest(String tenant, String question, SearchFilters filters) {
        this(tenant, question, filters, null, null);
    }
}
