package dev.keel.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Receives a streamed completion's chunks (OpenAI chunk shape) in order, from the calling thread. */
public interface StreamListener {
    /** One chunk; returning false cancels the upstream request (the client went away). */
    boolean onChunk(ObjectNode chunk);
}
