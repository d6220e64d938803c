package dev.keel.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Client-supplied schemas (response_format, tools): compiled or refused with a message, never a thrown Error. */
class JsonSchemasTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Arrays of arrays {@code levels} deep: each level one more JSON level. */
    private static JsonNode nested(int levels) throws Exception {
        return JSON.readTree("{\"type\":\"array\",\"items\":".repeat(levels) + "{\"type\":\"string\"}" + "}".repeat(levels));
    }

    /** On a virtual thread, where requests run and stacks are what they are in production. */
    private static Object compiledOnAVirtualThread(JsonNode schema) throws Exception {
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                out.set(JsonSchemas.compile(schema));
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        return out.get();
    }

    @Test
    void aSchemaAsDeepAsTheLimitCompilesAndValidates() throws Exception {
        Object compiled = compiledOnAVirtualThread(nested(JsonSchemas.MAX_DEPTH));
        assertThat(compiled).isInstanceOf(JsonSchemas.Compiled.class);
        JsonNode deepString = JSON.readTree("[".repeat(JsonSchemas.MAX_DEPTH) + "\"x\"" + "]".repeat(JsonSchemas.MAX_DEPTH));
        assertThat(((JsonSchemas.Compiled) compiled).errors(deepString)).isEmpty();
    }

    @Test
    void aDeeperSchemaIsRefusedSayingWhy() throws Exception {
        assertThatThrownBy(() -> JsonSchemas.compile(nested(JsonSchemas.MAX_DEPTH + 1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nests deeper than " + JsonSchemas.MAX_DEPTH);
    }

    @Test
    void aSchemaNestedFarPastTheLimitIsRefusedNotAStackOverflow() throws Exception {
        assertThat(compiledOnAVirtualThread(nested(990))).isInstanceOf(IllegalArgumentException.class);
    }
}
