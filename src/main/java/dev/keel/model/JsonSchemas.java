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
        rejectRemoteRefs(schema);
        try {
            return new Compiled(REGISTRY.getSchema(schema));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        }
    }

    private static void rejectRemoteRefs(JsonNode node) {
        if (node.isObject()) {
            JsonNode meta = node.get("$schema");
            if (meta != null && !meta.asText().matches("https?://json-schema\\.org/.*")) {
                throw new IllegalArgumentException("only a json-schema.org $schema is allowed; got " + meta.asText());
            }
            JsonNode ref = node.get("$ref");
            if (ref != null && !ref.asText().startsWith("#")) {
                throw new IllegalArgumentException("only local $ref (#/…) is allowed; got " + ref.asText());
            }
            node.properties().forEach(e -> rejectRemoteRefs(e.getValue()));
        } else if (node.isArray()) {
            node.forEach(JsonSchemas::rejectRemoteRefs);
        }
    }
}
