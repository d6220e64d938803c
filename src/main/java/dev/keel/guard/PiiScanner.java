package dev.keel.guard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

/**
 * The PII detector Keel ships: runs one finder per entity family over the text as written (spans
 * must point into it, so nothing is normalised first) and keeps, where candidates overlap, the more
 * specific one: a secret over anything inside it, an email or IBAN over the digits in it, a card,
 * SSN or IP address over a phone-number reading of the same digits. Thread-safe (finders hold no
 * state); each finder is linear in the text's length with bounded look-around, so hostile input
 * (a megabyte of digits, of '@', of base64) costs time proportional to its size.
 */
final class PiiScanner implements PiiDetector {
    /** One entity family's finder: adds candidate spans, in any order and possibly overlapping, to {@code out}. */
    interface Finder {
        void find(String text, List<PiiEntity> out);
    }

    /** Most specific first: the order in which overlapping candidates win. */
    private static final List<String> SPECIFICITY = List.of("SECRET", "EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "US_SSN", "IP_ADDRESS",
            "PHONE_NUMBER");

    private static final Comparator<PiiEntity> PRECEDENCE = Comparator.<PiiEntity>comparingInt(e -> SPECIFICITY.indexOf(e.type()))
            .thenComparing(Comparator.comparingInt((PiiEntity e) -> e.end() - e.start()).reversed())
            .thenComparingInt(PiiEntity::start);

    private final List<Finder> finders;

    PiiScanner(List<Finder> finders) {
        this.finders = List.copyOf(finders);
    }

    /** Every finder, with national phone formats of {@code phoneRegions} (ISO 3166 codes). */
    static PiiScanner of(List<String> phoneRegions) {
        return new PiiScanner(List.of(new SecretFinder(), new EmailFinder(), new AccountNumberFinder(), new SsnFinder(), new IpAddressFinder(),
                new PhoneFinder(phoneRegions)));
    }

    @Override
    public List<PiiEntity> detect(String text) {
        List<PiiEntity> candidates = new ArrayList<>();
        for (Finder f : finders) f.find(text, candidates);
        if (candidates.isEmpty()) return List.of();
        candidates.sort(PRECEDENCE);
        TreeMap<Integer, PiiEntity> kept = new TreeMap<>();
        for (PiiEntity c : candidates) {
            if (c.end() > c.start() && !overlapsKept(kept, c)) kept.put(c.start(), c);
        }
        return List.copyOf(kept.values());
    }

    /**
     * {@code m.find(from)} for a regex whose matches start with an ASCII digit: the same match, found without
     * trying the positions before the next digit (prose has few digits, so most texts cost one scan for them).
     */
    static boolean findFromDigit(Matcher m, String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') return m.find(i);
        }
        return false;
    }

    private static boolean overlapsKept(TreeMap<Integer, PiiEntity> kept, PiiEntity c) {
        Map.Entry<Integer, PiiEntity> before = kept.floorEntry(c.start());
        if (before != null && before.getValue().end() > c.start()) return true;
        Map.Entry<Integer, PiiEntity> after = kept.ceilingEntry(c.start());
        return after != null && after.getKey() < c.end();
    }
}
