package dev.keel.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig;
import java.util.Map;

/**
 * Picks the cheapest router tier expected to serve a chat request well, before any model is
 * called. The router then narrows the pick to the tiers the catalog has and the caller may use, and
 * escalates when a reply fails a check; so a classifier only predicts, it never decides access.
 * Implementations must be deterministic for a given request (routing decisions are reproducible
 * from the ledger), thread-safe, cheap (they run on every {@code auto} request) and bounded on
 * hostile input of any size. The default is {@link RuleBasedClassifier}; a trained model can
 * replace it without touching the router.
 */
public interface ComplexityClassifier {
    /**
     * The tier for {@code request} (an OpenAI chat request, already validated), why, and the features
     * it measured. The reason and feature names are fixed labels, never text of the request.
     */
    Classification classify(ObjectNode request);

    /**
     * A classifier's verdict: the {@code tier}, a short {@code reason} label such as
     * {@code short-simple} or {@code reasoning+code}, and the measured {@code features} (name →
     * value) recorded in the trace.
     */
    record Classification(ModelConfig.Tier tier, String reason, Map<String, Long> features) {
        public Classification {
            features = Map.copyOf(features);
        }
    }
}
