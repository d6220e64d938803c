package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.ingest.Tokens;

/**
 * What a stream's deltas wrote (content, reasoning, refusal, and tool calls' names and arguments), counted for billing a stream whose
 * provider reported no usage or that broke off. Counted in pieces of at most {@link #PIECE} characters, so a stream
 * that never ends holds one piece, not its whole text; a token split between two pieces counts twice, which errs
 * towards the provider's bill. Not thread-safe: one stream's chunks arrive in order on one thread.
 */
final class StreamedText {
    /** Long enough that piece boundaries add a negligible share of tokens, short enough to hold per open stream. */
    static final int PIECE = 16 * 1024;

    private final StringBuilder piece = new StringBuilder();
    private long counted;
    private boolean any;
    /** The count at the last {@link #tokens()}, and what was added since: for a cheap bound in between. */
    private long lastCount;
    private long charsSince, piecesSince;

    /** Adds what one chunk's choices say. */
    void add(JsonNode chunk) {
        for (JsonNode choice : chunk.path("choices")) {
            JsonNode delta = choice.path("delta");
            for (String field : TokenEstimate.REPLY_TEXT) append(delta.path(field).asText(""));
            for (JsonNode call : delta.path("tool_calls")) {
                append(call.path("function").path("name").asText(""));
                append(call.path("function").path("arguments").asText(""));
            }
        }
    }

    private void append(String text) {
        if (text.isEmpty()) return;
        any = true;
        piece.append(text);
        charsSince += text.length();
        if (piece.length() >= PIECE) {
            counted += Tokens.count(piece.toString());
            piece.setLength(0);
            piecesSince++;
        }
    }

    boolean isEmpty() {
        return !any;
    }

    /** The cl100k tokens of everything added. */
    long tokens() {
        lastCount = counted + (piece.isEmpty() ? 0 : Tokens.count(piece.toString()));
        charsSince = 0;
        piecesSince = 0;
        return lastCount;
    }

    /**
     * At least {@link #tokens()}, without counting: the last count plus three per UTF-16 unit added since (a token is at
     * least one UTF-8 byte, a unit at most three), plus one for each place the text was cut into pieces since.
     */
    long tokensAtMost() {
        return charsSince == 0 ? lastCount : lastCount + 3 * charsSince + piecesSince + 1;
    }
}
