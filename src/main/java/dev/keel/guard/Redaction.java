package dev.keel.guard;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The placeholders of one request: each distinct value of a type gets {@code <LABEL_n>} (numbered
 * per label from 1, the same value the same placeholder across every text of the request), and
 * {@link #restore} puts the originals back into what the model wrote. Not thread-safe: one request
 * owns it. Holds raw PII, so it is never logged, traced or cached.
 */
public final class Redaction {
    private final Map<String, String> byValue = new LinkedHashMap<>();   // type + NUL + value → placeholder
    private final Map<String, String> byPlaceholder = new LinkedHashMap<>();
    private final Map<String, Integer> counters = new LinkedHashMap<>();

    /** {@code text} with every entity replaced by its placeholder; entities sorted, not overlapping. */
    public String redact(String text, List<PiiEntity> entities) {
        StringBuilder out = new StringBuilder(text.length());
        int at = 0;
        for (PiiEntity e : entities) {
            out.append(text, at, e.start());
            String value = text.substring(e.start(), e.end());
            out.append(byValue.computeIfAbsent(e.type() + '\0' + value, k -> {
                String label = label(e.type());
                String placeholder = "<" + label + "_" + counters.merge(label, 1, Integer::sum) + ">";
                byPlaceholder.put(placeholder, value);
                return placeholder;
            }));
            at = e.end();
        }
        return out.append(text, at, text.length()).toString();
    }

    /** {@code text} with every placeholder of this request replaced by its original value. */
    public String restore(String text) {
        if (byPlaceholder.isEmpty() || text.indexOf('<') < 0) return text;
        String out = text;
        for (Map.Entry<String, String> e : byPlaceholder.entrySet()) out = out.replace(e.getKey(), e.getValue());
        return out;
    }

    /**
     * A copy that restores every placeholder but those of {@code type}: what a model writes where a
     * value of that type must not go back (a SECRET into a tool call the model chose) keeps its placeholder.
     */
    public Redaction without(String type) {
        Redaction copy = new Redaction();
        String prefix = "<" + label(type) + "_";
        byPlaceholder.forEach((placeholder, value) -> {
            if (!placeholder.startsWith(prefix)) copy.byPlaceholder.put(placeholder, value);
        });
        return copy;
    }

    public boolean isEmpty() {
        return byPlaceholder.isEmpty();
    }

    /** The placeholders handed out so far, without their values. */
    public List<String> placeholders() {
        return List.copyOf(byPlaceholder.keySet());
    }

    /** The short label a type's placeholders carry: {@code EMAIL_ADDRESS} → {@code EMAIL}. */
    static String label(String type) {
        return switch (type) {
            case "EMAIL_ADDRESS" -> "EMAIL";
            case "PHONE_NUMBER" -> "PHONE";
            case "US_SSN" -> "SSN";
            case "IBAN_CODE" -> "IBAN";
            case "IP_ADDRESS" -> "IP";
            default -> type;
        };
    }
}
