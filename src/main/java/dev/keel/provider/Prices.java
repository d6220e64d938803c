package dev.keel.provider;

import dev.keel.config.ModelConfig;
import dev.keel.model.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Prices a completion: the target's configured price, else the built-in list price of the longest
 * matching model-id prefix ({@code prices.tsv}), else zero with {@code priceKnown = false} so the
 * ledger can flag it. Cached input tokens are billed at the cached price. Also knows each model's
 * maximum output tokens (the target's {@code max_output_tokens}, else the table's), which bounds what
 * a request without {@code max_tokens} can cost. Immutable, thread-safe.
 */
public final class Prices {
    /** USD per million tokens. */
    public record Price(double input, double output, double cachedInput) {}

    /** A priced request. */
    public record Cost(double usd, boolean priceKnown) {}

    private final Map<String, Price> builtIn;
    private final Map<String, Long> outputLimits;

    private Prices(Map<String, Price> builtIn, Map<String, Long> outputLimits) {
        this.builtIn = Map.copyOf(builtIn);
        this.outputLimits = Map.copyOf(outputLimits);
    }

    public static Prices builtIn() {
        Map<String, Price> table = new LinkedHashMap<>();
        Map<String, Long> limits = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Prices.class.getResourceAsStream("/prices.tsv"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split("\t");
                table.put(f[0], new Price(Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3])));
                limits.put(f[0], Long.parseLong(f[4]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in price table", e);
        }
        return new Prices(table, limits);
    }

    /** The most output tokens the target's model produces for one request, when known. */
    public java.util.OptionalLong outputLimit(ModelConfig.Target target) {
        if (target.maxOutputTokens() != null) return java.util.OptionalLong.of(target.maxOutputTokens());
        String prefix = longestPrefix(target.model());
        return prefix == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(outputLimits.get(prefix));
    }

    public Price priceOf(ModelConfig.Target target) {
        if (target.inputPerMTok() != null) {
            double in = target.inputPerMTok();
            return new Price(in, target.outputPerMTok(), target.cachedInputPerMTok() != null ? target.cachedInputPerMTok() : in);
        }
        String best = longestPrefix(target.model());
        return best == null ? null : builtIn.get(best);
    }

    private String longestPrefix(String model) {
        String best = null;
        for (String prefix : builtIn.keySet()) {
            if (model.startsWith(prefix) && (best == null || prefix.length() > best.length())) best = prefix;
        }
        return best;
    }

    public Cost cost(ModelConfig.Target target, Usage usage) {
        Price p = priceOf(target);
        if (p == null) return new Cost(0, false);
        long cached = Math.min(usage.cachedTokens(), usage.promptTokens());
        double usd = ((usage.promptTokens() - cached) * p.input() + cached * p.cachedInput() + usage.completionTokens() * p.output()) / 1_000_000.0;
        return new Cost(usd, true);
    }
}
