package dev.keel.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * A guard policy: every setting that may differ by tenant or by key, fully resolved (no field is
 * absent). It is read from {@code guard.policies.<name>} or {@code guard.tenants.<tenant>}; the
 * policy named {@value GuardConfig#DEFAULT_POLICY} is the global {@code guard:} settings themselves.
 * Immutable; resolved once at startup, so choosing a request's policy allocates nothing.
 *
 * @param name a policy's own name, or {@code tenant:<tenant>} for a tenant's inline policy; config-bounded,
 *             so it may label traces and metrics
 */
public record GuardPolicy(String name, GuardConfig.Profile profile, Map<String, GuardConfig.Action> pii, Map<String, GuardConfig.Action> outputPii,
                          boolean canary, GuardConfig.GroundingAction grounding, GuardConfig.Topics topics, GuardConfig.IndirectPolicy indirect) {
    /** What a policy may be called: short, and without ':' (kept for {@code tenant:<tenant>}). */
    static final String NAME = "[A-Za-z0-9._-]{1,64}";

    public GuardPolicy {
        pii = Map.copyOf(pii);
        outputPii = Map.copyOf(outputPii);
    }

    /**
     * Everything this policy decides, written the same in every process that reads the same settings: cached
     * replies are kept apart by it, so a reply made under one version of a policy (say, without the canary) is never
     * served under another, on another replica or after a restart that changed the policy but kept its name.
     */
    public String fingerprint() {
        return FINGERPRINTS.computeIfAbsent(this, p -> {
            StringBuilder canonical = new StringBuilder().append(p.name).append('|').append(p.profile).append('|').append(new TreeMap<>(p.pii))
                    .append('|').append(new TreeMap<>(p.outputPii)).append('|').append(p.canary).append('|').append(p.grounding).append('|')
                    .append(p.topics.threshold());
            p.topics.allow().forEach(t -> canonical.append('|').append(t.name()).append('=').append(t.description()));
            canonical.append('|').append(p.indirect);
            return canonical.toString();
        });
    }

    /** Policies are bounded by the configuration, and so is this memo. */
    private static final Map<GuardPolicy, String> FINGERPRINTS = new java.util.concurrent.ConcurrentHashMap<>();

    /** This policy with another profile, under {@code otherName}. */
    GuardPolicy withProfile(String otherName, GuardConfig.Profile other) {
        return new GuardPolicy(otherName, other, pii, outputPii, canary, grounding, topics, indirect);
    }

    /**
     * The policy written at {@code n} ({@code profile}, {@code pii}, {@code output: {pii, canary, grounding}},
     * {@code topics: {allow, threshold}}, {@code indirect: {policy}}). <b>Precedence:</b> every field
     * the mapping leaves out is {@code base}'s: the global {@code guard:} value, or for a tenant that names
     * {@code policy: <name>}, that policy's. A per-type {@code pii} entry overrides that type only;
     * a {@code topics.allow} list replaces the whole list. Errors name the field.
     */
    static GuardPolicy read(ConfigNode n, String name, GuardPolicy base) {
        ConfigNode out = n.child("output"), top = n.child("topics"), ind = n.child("indirect");
        GuardConfig.Topics topics = new GuardConfig.Topics(top.has("allow") ? GuardConfig.topicList(top) : base.topics.allow(),
                top.decimal("threshold", base.topics.threshold(), 0, 1));
        return new GuardPolicy(name, n.enumValue("profile", GuardConfig.Profile.class, base.profile),
                GuardConfig.actions(n.child("pii"), base.pii), GuardConfig.actions(out.child("pii"), base.outputPii),
                out.bool("canary", base.canary), out.enumValue("grounding", GuardConfig.GroundingAction.class, base.grounding), topics,
                ind.enumValue("policy", GuardConfig.IndirectPolicy.class, base.indirect));
    }

    /**
     * A tenant's entry in {@code guard.tenants}: a bare profile ({@code strict|trusted}, today's form), or
     * a mapping of policy fields, optionally over {@code policy: <name>}; a mapping that only names a
     * policy is that policy.
     */
    static GuardPolicy readTenant(ConfigNode tenants, String tenant, Map<String, GuardPolicy> policies) {
        GuardPolicy global = policies.get(GuardConfig.DEFAULT_POLICY);
        String own = "tenant:" + tenant;
        JsonNode raw = tenants.tree(tenant);
        if (raw == null || !raw.isObject()) return global.withProfile(own, tenants.enumValue(tenant, GuardConfig.Profile.class, global.profile));
        ConfigNode n = tenants.child(tenant);
        GuardPolicy base = global;
        if (n.has("policy")) {
            String named = n.string("policy", null);
            base = policies.get(named);
            if (base == null) throw new ConfigException(n.path("policy"), "unknown policy '" + named + "'; defined: " + new java.util.TreeSet<>(policies.keySet()));
            if (raw.size() == 1) return base;
        }
        return read(n, own, base);
    }
}
