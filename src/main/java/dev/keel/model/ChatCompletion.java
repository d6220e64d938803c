package dev.keel.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A finished, non-streamed completion in OpenAI's response shape, with who served it and its usage. */
public record ChatCompletion(ObjectNode body, String provider, String upstreamModel, Usage usage) {}
