package dev.keel.gateway;

import dev.keel.store.ApiKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The models a caller may use, for {@code GET /v1/models}: the catalog's, and with zero-config
 * providers the well-known ids they serve ({@code passthrough-models.tsv}: other ids pass through
 * too, but an upstream's own list cannot be known without calling it), narrowed to the key's
 * allowance. A key that allows a name the zero-config providers would serve sees it listed.
 * Immutable, thread-safe.
 */
final class ModelListing {
    /** The owner named for catalog models. */
    static final String CATALOG_OWNER = "keel";
    private static final String WELL_KNOWN = "/passthrough-models.tsv";

    /** Model id → owner, sorted by id. */
    private final Map<String, String> listed = new TreeMap<>();
    private final boolean passthrough;

    ModelListing(Collection<String> catalog, Set<String> passthroughProviders) {
        this.passthrough = !passthroughProviders.isEmpty();
        wellKnown().forEach((id, provider) -> {
            if (passthroughProviders.contains(provider)) listed.put(id, provider);
        });
        catalog.forEach(name -> listed.put(name, CATALOG_OWNER));
    }

    /**
     * What {@code key} may use (null: open local use, everything listed), sorted by id;
     * {@code passthroughOwner} names the provider a passthrough name goes to.
     */
    List<ChatGateway.Listed> visibleTo(ApiKey key, UnaryOperator<String> passthroughOwner) {
        if (key == null || key.models().isEmpty()) return list(listed);
        Map<String, String> allowed = new TreeMap<>();
        for (String name : key.models()) {
            if (listed.containsKey(name)) allowed.put(name, listed.get(name));
            else if (passthrough) allowed.put(name, passthroughOwner.apply(name));
        }
        return list(allowed);
    }

    private static List<ChatGateway.Listed> list(Map<String, String> models) {
        return models.entrySet().stream().map(e -> new ChatGateway.Listed(e.getKey(), e.getValue())).toList();
    }

    /** Model id → provider, from the resource. */
    private static Map<String, String> wellKnown() {
        Map<String, String> out = new TreeMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(ModelListing.class.getResourceAsStream(WELL_KNOWN), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split("\t");
                out.put(f[1], f[0]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + WELL_KNOWN, e);
        }
        return out;
    }
}
