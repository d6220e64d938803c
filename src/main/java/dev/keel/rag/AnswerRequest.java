package dev.keel.rag;

import dev.keel.index.SearchFilters;

/** A question for a tenant, optionally restricted by filters. */
public record AnswerRequest(String tenant, String question, SearchFilters filters) {}
