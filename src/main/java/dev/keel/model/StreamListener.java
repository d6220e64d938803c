package dev.keel.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Receives a stream's JSON events in order, from the calling thread: chat-completion chunks (OpenAI's
 * chunk shape), or the Responses API events made from them.
 */
public interface StreamListener {
    /** One chunk or event; returning false cancels the upstream request (the client went away). */
    boolean onChunk(ObjectNode chunk);
}
