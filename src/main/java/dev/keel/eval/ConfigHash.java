package dev.keel.eval;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.config.KeelConfig;
import dev.keel.store.ContentHash;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A hash of the configuration that shapes answers (ingest and chunking, embedding, search, rerank, answer, models
 * and providers, router, guards, cache, eval), so two runs say whether they ran the same pipeline. Secrets never
 * reach the hash's input: fields named like a credential are dropped and user info is cut from URLs, so a rotated
 * API key does not change it. The server, store, Redis and telemetry sections are where Keel runs, not what it
 * answers, and are left out, as are the embedder's threads and batch size. Pure function.
 */
final class ConfigHash {
    private static final ObjectMapper JSON = JsonMapper.builder().findAndAddModules().addModule(optionals())
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();
    private static final Set<String> OPERATIONAL = Set.of("server", "store", "redis", "telemetry");
    /** How fast embeddings are computed (threads default to the machine's cores), not what they are. */
    private static final Set<String> EMBED_OPERATIONAL = Set.of("threads", "batchSize");
    private static final List<String> ANSWER_SHAPING = List.of("ingest", "embed", "search", "rerank", "answer");
    private static final Pattern SECRET_FIELD = Pattern.compile("(?i).*(key|secret|password|passwd|credential|token|authorization|headers?)$");
    /** Fields whose names end like a secret's but hold limits: token counts are settings, not credentials. */
    private static final Pattern NOT_SECRET = Pattern.compile("(?i).*(tokens|max.*token|.*tokenizer)$");
    private static final Pattern URL_USER_INFO = Pattern.compile("(?<=://)[^/@\\s]+@");
    /** Hex digits kept: enough to tell configurations apart in a report. */
    private static final int HASH_CHARS = 16;

    private ConfigHash() {}

    static String of(KeelConfig config) {
        ObjectNode tree = scrubbed(config);
        try {
            return ContentHash.sha256(JSON.writeValueAsString(JSON.treeToValue(tree, Object.class))).substring(0, HASH_CHARS);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("configuration is not serialisable", e);
        }
    }

    /**
     * The values of the sections that shape an answer most directly (ingest and chunking, embedding, search, rerank,
     * answer), flattened to {@code answer.context_chunks → 5}, secrets dropped as for the hash: what a comparison of
     * two runs names when their configurations differ. Lists are their JSON text.
     */
    static Map<String, String> values(KeelConfig config) {
        ObjectNode tree = scrubbed(config);
        Map<String, String> out = new TreeMap<>();
        for (String section : ANSWER_SHAPING) flatten(section, tree.path(section), out);
        return out;
    }

    private static ObjectNode scrubbed(KeelConfig config) {
        ObjectNode tree = JSON.valueToTree(config);
        tree.remove(OPERATIONAL);
        if (tree.get("embed") instanceof ObjectNode embed) embed.remove(EMBED_OPERATIONAL);
        scrub(tree);
        return tree;
    }

    private static void flatten(String path, JsonNode node, Map<String, String> out) {
        if (node.isMissingNode()) return;
        if (node instanceof ObjectNode object) {
            for (Map.Entry<String, JsonNode> field : object.properties()) flatten(path + "." + snake(field.getKey()), field.getValue(), out);
        } else {
            out.put(path, node.isTextual() ? node.asText() : node.toString());
        }
    }

    /** A record component's name as keel.yaml spells it: {@code contextChunks} → {@code context_chunks}. */
    private static String snake(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** Optional settings as their value or null (Jackson's own Optional support is a module Keel does not ship). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static SimpleModule optionals() {
        return new SimpleModule().addSerializer((Class) Optional.class, new StdSerializer<Optional<?>>((Class) Optional.class) {
            @Override
            public void serialize(Optional<?> value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                if (value.isPresent()) provider.defaultSerializeValue(value.get(), gen);
                else gen.writeNull();
            }
        });
    }

    private static void scrub(JsonNode node) {
        if (node instanceof ObjectNode object) {
            List<String> drop = new ArrayList<>();
            for (Map.Entry<String, JsonNode> field : object.properties()) {
                String name = field.getKey();
                if (SECRET_FIELD.matcher(name).matches() && !NOT_SECRET.matcher(name).matches()) drop.add(name);
                else if (field.getValue().isTextual()) field.setValue(withoutUserInfo(field.getValue()));
                else scrub(field.getValue());
            }
            object.remove(drop);
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                if (array.get(i).isTextual()) array.set(i, withoutUserInfo(array.get(i)));
                else scrub(array.get(i));
            }
        }
    }

    private static TextNode withoutUserInfo(JsonNode text) {
        return new TextNode(URL_USER_INFO.matcher(text.asText()).replaceAll(""));
    }
}
