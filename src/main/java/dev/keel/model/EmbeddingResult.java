package dev.keel.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Embeddings from a remote provider in OpenAI's response shape, with who served them and the input tokens. */
public record EmbeddingResult(ObjectNode body, String provider, Usage usage) {}
