package dev.keel.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Keel's whole configuration, read once from {@code keel.yaml} and validated at startup.
 * Immutable; every section has documented defaults so an empty or absent file is valid.
 * String values may reference the environment as {@code ${VAR}} or {@code ${VAR:-default}}.
 */
public record KeelConfig(ServerConfig server, IngestConfig ingest, EmbedConfig embed, SearchConfig search, AnswerConfig answer,
                         GatewayConfig gateway, RerankConfig rerank, RouterConfig router, SessionConfig sessions,
                         CacheConfig cache, GuardConfig guard, StoreConfig store, RedisConfig redis, IndexConfig index,
                         TelemetryConfig telemetry, EvalConfig eval, AgentConfig agents) {

    public static KeelConfig defaults() {
        return new KeelConfig(ServerConfig.DEFAULTS, IngestConfig.DEFAULTS, EmbedConfig.DEFAULTS, SearchConfig.DEFAULTS, AnswerConfig.DEFAULTS,
                GatewayConfig.EMPTY, RerankConfig.DEFAULTS, RouterConfig.DEFAULTS, SessionConfig.DEFAULTS, CacheConfig.DEFAULTS,
                GuardConfig.DEFAULTS, StoreConfig.DEFAULTS, RedisConfig.DEFAULTS, IndexConfig.DEFAULTS, TelemetryConfig.DEFAULTS, EvalConfig.DEFAULTS,
                AgentConfig.DEFAULTS);
    }

    /** Reads a YAML file; a missing file is an error (the user named it). */
    public static KeelConfig load(Path file) {
        if (!Files.isRegularFile(file)) throw new ConfigException("", "config file not found: " + file);
        try {
            return parse(Files.readString(file), System::getenv);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Parses YAML text, resolving {@code ${VAR}} with {@code env}. */
    public static KeelConfig parse(String yaml, Function<String, String> env) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        ConfigNode top = new ConfigNode("", root, env);
        SearchConfig search = SearchConfig.read(top.child("search"));
        KeelConfig config = new KeelConfig(
                ServerConfig.read(top.child("server")),
                IngestConfig.read(top.child("ingest")),
                EmbedConfig.read(top.child("embed")),
                search,
                AnswerConfig.read(top.child("answer")),
                GatewayConfig.read(top.child("providers"), top.child("models"), top.child("gateway")),
                RerankConfig.read(top.child("rerank"), search),
                RouterConfig.read(top.child("router")),
                SessionConfig.read(top.child("sessions")),
                CacheConfig.read(top.child("cache")),
                GuardConfig.read(top.child("guard")),
                StoreConfig.read(top.child("store")),
                RedisConfig.read(top.child("redis")),
                IndexConfig.read(top.child("index")),
                TelemetryConfig.read(top.child("telemetry")),
                EvalConfig.read(top.child("eval")),
                AgentConfig.read(top.child("agents")));
        top.rejectUnknown();
        config.answer().checkAgainst(config.gateway());
        if (config.eval().llmJudge() && !config.gateway().providers().isEmpty()) AnswerConfig.checkModel("eval.judge.model", config.eval().judgeModel(), config.gateway());
        for (AgentConfig.Definition d : config.agents().definitions().values()) {
            if (d.model() == null && config.answer().extractive(null)) {
                throw new ConfigException("agents.definitions." + d.name() + ".model", "an agent needs a catalog model that calls tools (a name under"
                        + " models:), and answer.model is the offline extractive answerer, which cannot");
            }
            if (d.model() != null && !config.gateway().providers().isEmpty()) AnswerConfig.checkModel("agents.definitions." + d.name() + ".model", d.model(), config.gateway());
        }
        return config;
    }

    public KeelConfig withServer(ServerConfig s) {
        return new KeelConfig(s, ingest, embed, search, answer, gateway, rerank, router, sessions, cache, guard, store, redis, index, telemetry, eval, agents);
    }

    public KeelConfig withChunking(ChunkingConfig c) {
        return new KeelConfig(server, ingest.withChunking(c), embed, search, answer, gateway, rerank, router, sessions, cache, guard, store, redis, index, telemetry, eval, agents);
    }

    public KeelConfig withSearch(SearchConfig s) {
        return new KeelConfig(server, ingest, embed, s, answer, gateway, rerank, router, sessions, cache, guard, store, redis, index, telemetry, eval, agents);
    }

    public KeelConfig withEval(EvalConfig e) {
        return new KeelConfig(server, ingest, embed, search, answer, gateway, rerank, router, sessions, cache, guard, store, redis, index, telemetry, e, agents);
    }

    public KeelConfig withAgents(AgentConfig a) {
        return new KeelConfig(server, ingest, embed, search, answer, gateway, rerank, router, sessions, cache, guard, store, redis, index, telemetry, eval, a);
    }

    public KeelConfig withIndex(IndexConfig i) {
        return new KeelConfig(server, ingest, embed, search, answer, gateway, rerank, router, sessions, cache, guard, store, redis, i, telemetry, eval, agents);
    }
}
