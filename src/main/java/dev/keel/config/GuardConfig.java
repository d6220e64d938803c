package dev.keel.config;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Guardrails: the input guard (prompt injection scored 0..1 against a threshold per profile, PII
 * actions per entity type), the output guard (PII, secrets and system-prompt canary leaks in what
 * a model writes; what to do with an answer's unsupported sentences), the scan of ingested chunks
 * for indirect injection, an optional topic allow-list, which profile each tenant's callers get, and
 * the regions whose national phone formats (numbers written without a {@code +} country code) count.
 * {@code strict} is for anonymous or untrusted callers, {@code trusted} for keys or tenants marked so.
 * Named {@link GuardPolicy policies} ({@code guard.policies}) and tenants' own ({@code guard.tenants})
 * vary the profile, PII actions, output checks, topics and indirect policy; which one a request gets is
 * {@link #policyOf(String)} for its tenant, or its key's {@code guard_policy}. {@code cache} bounds the memory of
 * what the input guard found in texts it checked ({@code guard.cache}).
 */
public record GuardConfig(boolean enabled, Input input, Map<String, Action> pii, Output output, Indirect indirect, Topics topics,
                          Map<String, GuardPolicy> tenants, Map<String, GuardPolicy> policies, List<String> phoneRegions, Cache cache) {
    /** The name of the policy that is the global {@code guard:} settings; always in {@link #policies()}, and no user policy may take it. */
    public static final String DEFAULT_POLICY = "default";

    /** The two guard profiles: which injection threshold applies. */
    public enum Profile { STRICT, TRUSTED }

    /** What the guard does with a detected PII entity of one type. */
    public enum Action {
        /** Leave it as it is. */
        ALLOW,
        /** Refuse the request with a message and a next step. */
        BLOCK,
        /** Replace it by a placeholder ({@code <EMAIL_1>}) the model sees; the reply gets the original back. */
        REDACT,
        /** Send the request, unchanged, only to providers marked {@code private} in the catalog. */
        PRIVATE
    }

    /** What the answer path does with sentences the grounding check found unsupported. */
    public enum GroundingAction { BLOCK, FLAG, PASS }

    /** What retrieval does with chunks flagged at ingest as carrying instructions. */
    public enum IndirectPolicy { EXCLUDE, WRAP }

    /**
     * Injection score thresholds at or above which a request is blocked, the decoding depth, an
     * optional file of attack exemplars (category TAB text per line) added to the shipped ones, and
     * the most characters of message text one request may have the guard scan.
     */
    public record Input(double strictThreshold, double trustedThreshold, Profile defaultProfile, int maxDecodeDepth, Optional<Path> exemplars,
                        int maxChars) {}

    /** Some 50,000 tokens: room for a long prompt with its context, while the guard's time (which grows with the text) stays bounded per request. */
    private static final int DEFAULT_MAX_CHARS = 200_000;

    /** The output guard: PII actions (same types as the input), the canary check and grounding. */
    public record Output(boolean enabled, Map<String, Action> pii, boolean canary, GroundingAction grounding) {}

    /** The ingest scan for instructions hidden in documents, and how flagged chunks reach a prompt. */
    public record Indirect(boolean scan, IndirectPolicy policy, double threshold) {}

    /** An allow-list of topics (empty: every topic); a request less similar than threshold to all is refused. */
    public record Topics(List<Topic> allow, double threshold) {
        public Topics {
            allow = List.copyOf(allow);
        }
    }

    /** One allowed topic: a name for messages and traces, and the description requests are compared to. */
    public record Topic(String name, String description) {}

    /**
     * The memory of input assessments: what the detectors found in a text (injection score and signals, topic fit, PII
     * spans), kept per tenant and policy under the text's SHA-256, so a conversation's earlier turns, sent again with every
     * request, are not scored again. {@code maxEntries} bounds it (an entry that holds many findings counts as several).
     */
    public record Cache(boolean enabled, int maxEntries) {}

    /**
     * Some 200 conversations of 40 texts (each text takes an entry per detector it ran); a finding of a short question
     * held some 220 bytes of heap in a probe, so a few MiB.
     */
    private static final int DEFAULT_CACHE_ENTRIES = 20_000;

    /** The entity types the PII detectors report, named as Microsoft Presidio names them (and SECRET). */
    public static final List<String> PII_TYPES = List.of("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
            "SECRET");

    private static final Map<String, Action> DEFAULT_PII = defaultPii();

    /** Where most of Keel's users and their customers write numbers without a country code. */
    private static final List<String> DEFAULT_PHONE_REGIONS = List.of("US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "CA", "ES", "IT", "NL");

    public static final GuardConfig DEFAULTS = new GuardConfig(true,
            new Input(0.5, 0.85, Profile.STRICT, 3, Optional.empty(), DEFAULT_MAX_CHARS),
            DEFAULT_PII,
            new Output(true, DEFAULT_PII, true, GroundingAction.FLAG),
            new Indirect(true, IndirectPolicy.WRAP, 0.5),
            new Topics(List.of(), 0.5),
            Map.of(),
            Map.of(),
            DEFAULT_PHONE_REGIONS,
            new Cache(true, DEFAULT_CACHE_ENTRIES));

    /** {@code policies} gets (or has replaced) the {@value #DEFAULT_POLICY} policy: the global settings. */
    public GuardConfig {
        pii = Map.copyOf(pii);
        tenants = Map.copyOf(tenants);
        Map<String, GuardPolicy> all = new LinkedHashMap<>(policies);
        all.put(DEFAULT_POLICY, new GuardPolicy(DEFAULT_POLICY, input.defaultProfile(), pii, output.pii(), output.canary(), output.grounding(), topics,
                indirect.policy()));
        policies = Map.copyOf(all);
        phoneRegions = List.copyOf(phoneRegions);
    }

    /** The policy of a tenant's callers whose key names none: the tenant's entry in {@code guard.tenants}, else the global one. */
    public GuardPolicy policyOf(String tenant) {
        GuardPolicy own = tenants.get(tenant);
        return own != null ? own : policies.get(DEFAULT_POLICY);
    }

    /** The policy called {@code name} in {@code guard.policies} ({@value #DEFAULT_POLICY}: the global one); empty when there is none. */
    public Optional<GuardPolicy> policy(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(policies.get(name));
    }

    /**
     * These settings as a request under {@code policy} sees them: the policy's fields in place of the
     * global ones, and no tenants or other policies (the choice of policy is already made).
     */
    public GuardConfig under(GuardPolicy policy) {
        return new GuardConfig(enabled, new Input(input.strictThreshold(), input.trustedThreshold(), policy.profile(), input.maxDecodeDepth(),
                input.exemplars(), input.maxChars()), policy.pii(), new Output(output.enabled(), policy.outputPii(), policy.canary(), policy.grounding()),
                new Indirect(indirect.scan(), policy.indirect(), indirect.threshold()), policy.topics(), Map.of(), Map.of(), phoneRegions, cache);
    }

    /** These settings with {@code other} as the memory of input assessments. */
    public GuardConfig withCache(Cache other) {
        return new GuardConfig(enabled, input, pii, output, indirect, topics, tenants, policies, phoneRegions, other);
    }

    private static Map<String, Action> defaultPii() {
        Map<String, Action> m = new LinkedHashMap<>();
        for (String type : PII_TYPES) m.put(type, Action.REDACT);
        m.put("IP_ADDRESS", Action.ALLOW); // addresses are common in technical questions and rarely identify a person alone
        return m;
    }

    static GuardConfig read(ConfigNode n) {
        ConfigNode in = n.child("input"), out = n.child("output"), ind = n.child("indirect"), top = n.child("topics");
        Input input = new Input(
                in.decimal("strict_threshold", DEFAULTS.input.strictThreshold, 0, 1),
                in.decimal("trusted_threshold", DEFAULTS.input.trustedThreshold, 0, 1),
                profile(in, "default_profile", DEFAULTS.input.defaultProfile),
                in.integer("max_decode_depth", DEFAULTS.input.maxDecodeDepth, 0, 8),
                Optional.ofNullable(in.string("exemplars", null)).filter(s -> !s.isBlank()).map(Path::of),
                in.integer("max_chars", DEFAULTS.input.maxChars, 1, Integer.MAX_VALUE));
        if (input.exemplars.isPresent() && !Files.isReadable(input.exemplars.get())) {
            throw new ConfigException(in.path("exemplars"), "no readable file at " + input.exemplars.get().toAbsolutePath());
        }
        if (input.trustedThreshold < input.strictThreshold) {
            throw new ConfigException(in.path("trusted_threshold"), "must be at least strict_threshold (" + input.strictThreshold + ")");
        }
        Map<String, Action> pii = actions(n.child("pii"), DEFAULT_PII);
        Output output = new Output(out.bool("enabled", DEFAULTS.output.enabled), actions(out.child("pii"), pii),
                out.bool("canary", DEFAULTS.output.canary),
                out.enumValue("grounding", GroundingAction.class, DEFAULTS.output.grounding));
        Indirect indirect = new Indirect(ind.bool("scan", DEFAULTS.indirect.scan),
                ind.enumValue("policy", IndirectPolicy.class, DEFAULTS.indirect.policy),
                ind.decimal("threshold", DEFAULTS.indirect.threshold, 0, 1));
        Topics topics = new Topics(topicList(top), top.decimal("threshold", DEFAULTS.topics.threshold, 0, 1));
        // The global settings as a policy, built where the record builds it, so there is one place that maps settings to a policy.
        Map<String, GuardPolicy> policies = new GuardConfig(true, input, pii, output, indirect, topics, Map.of(), Map.of(), List.of(), DEFAULTS.cache).policies;
        ConfigNode pol = n.child("policies");
        Map<String, GuardPolicy> named = new LinkedHashMap<>(policies);
        for (String name : pol.keys()) {
            if (!name.matches(GuardPolicy.NAME) || name.equals(DEFAULT_POLICY)) {
                throw new ConfigException(pol.path(name), "a policy name is 1-64 letters, digits, '.', '_' or '-', and not '" + DEFAULT_POLICY + "'");
            }
            named.put(name, GuardPolicy.read(pol.child(name), name, policies.get(DEFAULT_POLICY)));
        }
        ConfigNode ten = n.child("tenants");
        Map<String, GuardPolicy> tenants = new LinkedHashMap<>();
        for (String tenant : ten.keys()) tenants.put(tenant, GuardPolicy.readTenant(ten, tenant, named));
        named.remove(DEFAULT_POLICY);
        ConfigNode c = n.child("cache");
        Cache cache = new Cache(c.bool("enabled", DEFAULTS.cache.enabled), c.integer("max_entries", DEFAULTS.cache.maxEntries, 1, Integer.MAX_VALUE));
        return new GuardConfig(n.bool("enabled", DEFAULTS.enabled), input, pii, output, indirect, topics, tenants, named, phoneRegions(n), cache);
    }

    /** The topics listed under {@code allow} at {@code top}, each with a name and a description. */
    static List<Topic> topicList(ConfigNode top) {
        return top.list("allow").stream().map(t -> {
            Topic topic = new Topic(t.string("name", "").strip(), t.string("description", "").strip());
            if (topic.name().isEmpty()) throw new ConfigException(t.path("name"), "a topic needs a name");
            if (topic.description().isEmpty()) throw new ConfigException(t.path("description"), "a topic needs a description to compare requests with");
            t.rejectUnknown();
            return topic;
        }).toList();
    }

    private static List<String> phoneRegions(ConfigNode n) {
        if (!n.has("phone_regions")) return DEFAULTS.phoneRegions;
        List<String> regions = n.strings("phone_regions").stream().map(r -> r.toUpperCase(Locale.ROOT)).distinct().toList();
        for (String region : regions) {
            if (!PhoneNumberUtil.getInstance().getSupportedRegions().contains(region)) {
                throw new ConfigException(n.path("phone_regions"), "unknown region '" + region + "'; expected ISO 3166 codes such as US, GB, DE");
            }
        }
        return regions;
    }

    private static Profile profile(ConfigNode n, String key, Profile fallback) {
        return n.enumValue(key, Profile.class, fallback);
    }

    static Map<String, Action> actions(ConfigNode n, Map<String, Action> fallback) {
        Map<String, Action> out = new LinkedHashMap<>(fallback);
        for (String type : n.keys()) {
            if (!PII_TYPES.contains(type)) throw new ConfigException(n.path(type), "unknown entity type; expected one of " + PII_TYPES);
            out.put(type, n.enumValue(type, Action.class, fallback.get(type)));
        }
        return out;
    }
}
