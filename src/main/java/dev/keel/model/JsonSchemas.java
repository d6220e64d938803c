package dev.keel.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON Schema (2020-12 by default) validation, the one place Keel compiles schemas: response formats, tool
 * arguments, judge verdicts, agent tools. A schema may name only a json-schema.org {@code $schema} and use only
 * local {@code $ref}s, so compiling or validating never fetches anything (a schema from a client or an MCP server
 * cannot make Keel call a URL). Compiled schemas are immutable and thread-safe.
 */
public final class JsonSchemas {
    /**
     * JSON levels a schema may nest (an object property is two: {@code properties}, then its name). Far past what
     * structured outputs use; a 25 KB schema nested 990 deep overflowed the validator's stack.
     */
    static final int MAX_DEPTH = 128;
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private JsonSchemas() {}

    /** A compiled schema. */
    public static final class Compiled {
        private final Schema schema;

        private Compiled(Schema schema) {
            this.schema = schema;
        }

        /**
         * What is wrong with {@code value}, one readable message per problem, each prefixed with where it is
         * ({@code $.age: string found, integer expected}); empty when it conforms.
         */
        public List<String> errors(JsonNode value) {
            List<String> out = new ArrayList<>();
            for (Error e : schema.validate(value)) {
                String message = e.getMessage();
                String where = e.getInstanceLocation() == null ? "$" : e.getInstanceLocation().toString();
                out.add(message.startsWith(where) ? message : where + ": " + message);
            }
            return out;
        }
    }

    /**
     * Compiles {@code schema}; fails with an {@link IllegalArgumentException} whose message says what is wrong
     * (a remote {@code $ref}, a foreign {@code $schema}, a schema the validator cannot read).
     */
    public static Compiled compile(JsonNode schema) {
        if (schema == null || !schema.isObject()) throw new IllegalArgumentException("a JSON Schema must be an object");
        rejectRemoteRefs(schema, 0);
        try {
            return new Compiled(REGISTRY.getSchema(schema));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        } catch (StackOverflowError e) {
            // Local $refs can still recurse where nesting cannot: the validator's own walk ran out of stack.
            throw new IllegalArgumentException("the schema's references nest too deeply to compile");
        }
    }

    private static void rejectRemoteRefs(JsonNode node, int depth) {
        if (node.isContainerNode() && depth > MAX_DEPTH) {
            throw new IllegalArgumentException("the schema nests deeper than " + MAX_DEPTH + " levels of JSON");
        }
        if (node.isObject()) {
            JsonNode meta = node.get("$schema");
            if (meta != null && !meta.asText().matches("https?://json-schema\\.org/.*")) {
                throw new IllegalArgumentException("only a json-schema.org $schema is allowed; got " + meta.asText());
            }
            JsonNode ref = node.get("$ref");
            if (ref != null && !ref.asText().startsWith("#")) {
                throw new IllegalArgumentException("only local $ref (#/…) is allowed; got " + ref.asText());
            }
            node.properties().forEach(e -> rejectRemoteRefs(e.getValue(), depth + 1));
        } else if (node.isArray()) {
            node.forEach(e -> rejectRemoteRefs(e, depth + 1));
        }
    }
}
