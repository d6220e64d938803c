package dev.keel.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code input} of an OpenAI embeddings request, read once: text (a string or a list of
 * strings) or token ids (a list of ints, or a list of lists of ints: what clients such as
 * LangChain's OpenAIEmbeddings send by default). Reading checks the shape only; malformed input is
 * a 400 naming {@code input}. Immutable.
 */
public sealed interface EmbeddingInput {
    /** Inputs given as text. */
    record Texts(List<String> texts) implements EmbeddingInput {
        public Texts {
            texts = List.copyOf(texts);
        }
    }

    /** Inputs given as token ids, one array per input; every id is a non-negative int. */
    record TokenIds(List<int[]> inputs) implements EmbeddingInput {
        public TokenIds {
            inputs = List.copyOf(inputs);
        }
    }

    /** Reads a request's {@code input}. */
    static EmbeddingInput of(JsonNode input) {
        if (input == null || input.isNull()) throw ApiException.badRequest("'input' is required", "input");
        if (input.isTextual()) return new Texts(List.of(input.asText()));
        if (!input.isArray() || input.isEmpty()) throw malformed();
        JsonNode first = input.get(0);
        if (first.isTextual()) {
            List<String> texts = new ArrayList<>(input.size());
            for (JsonNode item : input) {
                if (!item.isTextual()) throw malformed();
                texts.add(item.asText());
            }
            return new Texts(texts);
        }
        if (first.isNumber()) return new TokenIds(List.of(ids(input, "input")));
        List<int[]> inputs = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            if (!item.isArray() || item.isEmpty()) throw malformed();
            inputs.add(ids(item, "input[" + i + "]"));
        }
        return new TokenIds(inputs);
    }

    private static int[] ids(JsonNode list, String at) {
        int[] ids = new int[list.size()];
        for (int j = 0; j < ids.length; j++) {
            JsonNode id = list.get(j);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw ApiException.badRequest(at + "[" + j + "] is not a token id (a non-negative integer)", "input");
            }
            ids[j] = id.asInt();
        }
        return ids;
    }

    private static ApiException malformed() {
        return ApiException.badRequest("'input' must be a string, a non-empty list of strings, a list of token ids or a list of lists of token ids",
                "input");
    }
}
