package dev.keel.rag;

import dev.keel.embed.Vectors;
import dev.keel.index.ChunkIndex;
import dev.keel.ingest.Sentences;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a model's answer against the context blocks it was given. Citation markers {@code [n]}
 * (also {@code [1, 2]}) that name no block are dropped from the text and reported. Each sentence is
 * then checked against the blocks it cites (all blocks when it cites none): every number and every
 * capitalised name it states must occur in them (or in the question), and its support, a blend of
 * embedding similarity to the closest context sentences and the IDF-weighted share of its terms the
 * cited text contains, must reach {@code minSupport}. Sentences without content words (a bare "Yes.")
 * are not checked; sentences past {@link #MAX_CHECKED_SENTENCES} count as unsupported. Thread-safe.
 */
final class GroundingChecker {
    private static final Pattern MARKER = Pattern.compile("\\s?\\[(\\d+(?:\\s*,\\s*\\d+)*)]");
    private static final Pattern LEADING_MARKERS = Pattern.compile("^(?:\\[\\d+(?:\\s*,\\s*\\d+)*]\\s*)+");
    /** Markers after a sentence's full stop followed by the next sentence ("… night. [1] Then …"), which the sentence splitter keeps as one. */
    private static final Pattern MARKERS_BETWEEN_SENTENCES = Pattern.compile("([.!?])((?:\\s?\\[\\d+(?:\\s*,\\s*\\d+)*])+)[ \\t]+(?=[\\p{Lu}\\p{N}])");
    private static final Pattern NUMBER = Pattern.compile("\\d+(?:[.,]\\d+)*");
    private static final Pattern NAME = Pattern.compile("(?<![\\p{L}\\p{N}])\\p{Lu}[\\p{L}\\p{N}]+");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");
    /** Share of a sentence's support that comes from embedding similarity; the rest is lexical coverage. */
    private static final double SEMANTIC_WEIGHT = 0.6;
    /** Context sentences (the lexically closest) compared by embedding with each answer sentence. */
    private static final int EVIDENCE_CANDIDATES = 3;
    /** A first word used by at most this share of the tenant's chunks reads as a name (of a product, company, place). */
    private static final double NAME_SHARE = 0.05;
    /**
     * Number words read as the numbers they name, so "one year" and "1 year" are the same claim and "every hour for one
     * year" is not supported by "every 24 hours".
     */
    private static final Map<String, String> NUMBER_WORDS = numberWords();
    private static final Pattern NUMBER_WORD = Pattern.compile("(?i)(?<![\\p{L}\\p{N}])(\\p{L}+)(?=\\s+(\\p{L}+))");
    /** Words before "one" that make it a pronoun ("no one", "the one"), not a count. */
    private static final Set<String> PRONOUN_ONE = Set.of("no", "any", "every", "each", "the", "this", "that", "which");
    /** Words after a number word that make it no count ("one of them", "one or two"). */
    private static final Set<String> NOT_COUNTED_AFTER = Set.of("of", "or", "and", "another", "by");
    /**
     * Words that deny what a sentence says. A claim whose closest context sentence denies what the claim asserts (or
     * asserts what the claim denies) contradicts it, however many words they share.
     */
    private static final Set<String> NEGATIONS = Set.of("not", "no", "never", "cannot", "nobody", "none", "nothing", "neither", "nor", "without");
    /** Words with their contraction, so that "don't" is one token. */
    private static final Pattern TOKEN = Pattern.compile("[\\p{L}\\p{N}]+(?:['’]t)?");
    /** How many words after a negation it denies: "cannot be edited or deleted" reaches "deleted". */
    private static final int NEGATION_SCOPE = 4;
    /** "No." or "Yes," answers the question; it does not deny the claim that follows (a denying "no" is followed by a noun). */
    private static final Pattern ANSWER_PARTICLE = Pattern.compile("(?i)(?<![\\p{L}\\p{N}])(no|yes)\\s*[.,;:!]\\s*");
    /**
     * Function words that open sentences capitalised but never name a product, company or place, however rare they
     * are in the tenant's chunks.
     */
    private static final Set<String> NEVER_NAMES = Set.of("without", "when", "whenever", "where", "after", "before", "if", "unless", "while",
            "during", "because", "although", "though", "once", "since", "until", "within", "every", "each", "both", "either", "neither", "only",
            "also", "still", "even", "just", "nobody", "none", "however", "instead", "whether", "any", "all", "most", "some", "many", "few",
            "several", "other", "another", "such", "here", "thus", "yes", "never", "always", "often", "usually", "sometimes", "already", "again",
            "today", "now", "otherwise", "meanwhile", "afterwards", "finally", "first", "then", "next", "unlike", "like", "per", "via");
    /** Words of opposite meaning, with their inflections: a claim using one side where its context uses the other contradicts it. */
    private static final List<List<Set<String>>> OPPOSITES = List.of(
            List.of(Set.of("accept", "accepts", "accepted", "accepting", "allow", "allows", "allowed", "permitted"),
                    Set.of("reject", "rejects", "rejected", "rejecting", "refuse", "refuses", "refused", "block", "blocks", "blocked", "deny", "denies",
                            "denied", "forbidden")),
            List.of(Set.of("keep", "keeps", "kept", "keeping", "retain", "retains", "retained"), Set.of("lose", "loses", "lost", "losing")),
            List.of(Set.of("new", "newer", "newest", "latest"), Set.of("old", "older", "oldest", "earliest")),
            List.of(Set.of("enable", "enables", "enabled", "active"), Set.of("disable", "disables", "disabled", "inactive", "off")),
            List.of(Set.of("include", "includes", "included"), Set.of("exclude", "excludes", "excluded")),
            List.of(Set.of("increase", "increases", "increased", "raise", "raises", "raised"),
                    Set.of("decrease", "decreases", "decreased", "reduce", "reduces", "reduced", "lower", "lowers", "lowered")),
            List.of(Set.of("before", "earlier"), Set.of("after", "later")),
            List.of(Set.of("first"), Set.of("last")),
            List.of(Set.of("more", "most"), Set.of("fewer", "less", "least")),
            List.of(Set.of("minimum"), Set.of("maximum")),
            List.of(Set.of("public"), Set.of("private")),
            List.of(Set.of("same"), Set.of("different", "other")),
            List.of(Set.of("upgrade", "upgrades", "upgraded"), Set.of("downgrade", "downgrades", "downgraded")),
            List.of(Set.of("required", "mandatory"), Set.of("optional")));
    /** A term no text is analysed into: its IDF is the weight of a term the tenant's chunks do not contain. */
    private static final String NO_TERM = "";
    /**
     * Sentences checked per answer; later ones count as unsupported unchecked. Far above what
     * {@code answer.max_output_tokens} allows, it bounds the embedding work a runaway reply can cause.
     */
    static final int MAX_CHECKED_SENTENCES = 100;
    /** A cited id longer than this is no block number (and must not overflow an int). */
    private static final int MAX_ID_DIGITS = 6;

    private final ChunkIndex index;
    private final BiFunction<String, List<String>, List<float[]>> vectors;
    private final double minSupport;

    /** {@code vectors} embeds a tenant's sentences (one vector per text, in order), through a cache keyed by tenant. */
    GroundingChecker(ChunkIndex index, BiFunction<String, List<String>, List<float[]>> vectors, double minSupport) {
        this.index = index;
        this.vectors = vectors;
        this.minSupport = minSupport;
    }

    /**
     * The answer with invalid markers dropped, the valid block ids it cites (ascending), its grounding, the sentences
     * checked, and each checked sentence's check (sentences past {@link #MAX_CHECKED_SENTENCES} have none).
     */
    record Checked(String text, List<Integer> cited, Grounding grounding, List<String> sentences, List<SentenceCheck> checks) {}

    /** One answer sentence with the blocks it cites (none: it was checked against all) and its support. */
    record SentenceCheck(String sentence, Set<Integer> cited, boolean supported, double support) {}

    Checked check(String tenant, String question, String answer, List<ContextPacker.Block> blocks) {
        Set<Integer> invalid = new LinkedHashSet<>();
        Set<Integer> cited = new TreeSet<>();
        // Dropping a marker can join its neighbours into a new one ("[1[99]2]" → "[12]"): drop until none is left to drop.
        String text = answer, before;
        do {
            before = text;
            text = dropInvalidMarkers(before, blocks.size(), cited, invalid);
        } while (!text.equals(before));
        text = text.strip();
        List<String> unsupported = new ArrayList<>(), checked = new ArrayList<>();
        List<SentenceCheck> checks = new ArrayList<>();
        for (String sentence : sentencesWithTheirMarkers(text)) {
            if (checked.size() >= MAX_CHECKED_SENTENCES) {
                checked.add(sentence);
                unsupported.add(sentence);
                continue;
            }
            SentenceCheck c = checkSentence(tenant, question, sentence, blocks);
            if (c == null) continue;
            checks.add(c);
            checked.add(sentence);
            if (!c.supported()) unsupported.add(sentence);
        }
        return new Checked(text, List.copyOf(cited), grounding(checked, unsupported, List.copyOf(invalid)), List.copyOf(checked), List.copyOf(checks));
    }

    /** {@code text} with the ids of markers that name no block (of {@code blocks}) removed, noting valid and invalid ids. */
    private static String dropInvalidMarkers(String text, int blocks, Set<Integer> cited, Set<Integer> invalid) {
        Matcher m = MARKER.matcher(text);
        StringBuilder clean = new StringBuilder();
        while (m.find()) {
            List<String> kept = new ArrayList<>();
            for (String id : m.group(1).split("\\s*,\\s*")) {
                int n = blockId(id);
                if (n >= 1 && n <= blocks) {
                    kept.add(Integer.toString(n));
                    cited.add(n);
                } else {
                    invalid.add(n);
                }
            }
            String marker = kept.isEmpty() ? "" : m.group().substring(0, m.group().indexOf('[')) + "[" + String.join(", ", kept) + "]";
            m.appendReplacement(clean, Matcher.quoteReplacement(marker));
        }
        m.appendTail(clean);
        return clean.toString();
    }

    /** A marker's id as a number, -1 when it is too long to be one. */
    private static int blockId(String digits) {
        return digits.length() > MAX_ID_DIGITS ? -1 : Integer.parseInt(digits);
    }

    /** The grounding of {@code checked} sentences of which {@code unsupported} are not supported. */
    static Grounding grounding(List<String> checked, List<String> unsupported, List<Integer> invalid) {
        double score = checked.isEmpty() ? 1 : (checked.size() - unsupported.size()) / (double) checked.size();
        return new Grounding(Math.round(score * 1000) / 1000.0, unsupported, invalid);
    }

    /** Sentences, each with the markers that follow its full stop ("… night. [1]") moved back onto it. */
    private static List<String> sentencesWithTheirMarkers(String text) {
        List<String> out = new ArrayList<>();
        for (String s : Sentences.split(MARKERS_BETWEEN_SENTENCES.matcher(text).replaceAll("$1$2\n"))) {
            Matcher lead = LEADING_MARKERS.matcher(s);
            if (lead.find() && !out.isEmpty()) {
                out.set(out.size() - 1, out.get(out.size() - 1) + " " + lead.group().strip());
                s = s.substring(lead.end()).strip();
            }
            if (!s.isEmpty()) out.add(s);
        }
        return out;
    }

    /** The sentence's check, or null when it states nothing checkable. */
    SentenceCheck checkSentence(String tenant, String question, String sentence, List<ContextPacker.Block> blocks) {
        Set<Integer> ids = new TreeSet<>();
        Matcher m = MARKER.matcher(sentence);
        while (m.find()) for (String id : m.group(1).split("\\s*,\\s*")) ids.add(blockId(id));
        String claim = MARKER.matcher(sentence).replaceAll("").strip();
        List<String> claimTerms = index.terms(claim);
        if (claimTerms.isEmpty()) return null;
        List<ContextPacker.Block> evidence = blocks.stream().filter(b -> ids.isEmpty() || ids.contains(b.n())).toList();
        StringBuilder evidenceText = new StringBuilder();
        for (ContextPacker.Block b : evidence) evidenceText.append(b.chunk().title()).append('\n').append(b.chunk().section()).append('\n').append(b.text()).append('\n');
        String known = evidenceText + "\n" + question;
        Set<String> knownWords = words(known);
        if (!numbers(known).containsAll(numbers(claim)) || !knownWords.containsAll(names(claim)) || startsWithForeignName(tenant, claim, knownWords)) {
            return new SentenceCheck(sentence, Set.copyOf(ids), false, 0);
        }

        Set<String> unique = new HashSet<>(claimTerms);
        Map<String, Double> idf = index.idf(tenant, unique);
        Set<String> evidenceTerms = new HashSet<>(index.terms(evidenceText.toString()));
        double total = 0, covered = 0;
        for (String t : unique) {
            total += idf.get(t);
            if (evidenceTerms.contains(t)) covered += idf.get(t);
        }
        double lexical = total == 0 ? 0 : covered / total;

        List<String> candidates = new ArrayList<>();
        for (ContextPacker.Block b : evidence) candidates.addAll(Sentences.split(b.text()));
        Map<String, Double> overlap = new HashMap<>();
        for (String s : candidates) overlap.computeIfAbsent(s, x -> overlap(x, unique, idf));
        List<String> closest = overlap.keySet().stream().sorted(Comparator.comparingDouble((String s) -> -overlap.get(s)).thenComparing(s -> s))
                .limit(EVIDENCE_CANDIDATES).toList();
        double semantic = 0;
        if (!closest.isEmpty()) {
            List<String> texts = new ArrayList<>(closest);
            texts.add(claim);
            List<float[]> v = vectors.apply(tenant, texts);
            float[] c = v.get(v.size() - 1);
            for (int i = 0; i < closest.size(); i++) semantic = Math.max(semantic, Vectors.dot(c, v.get(i)));
        }
        double support = SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical;
        boolean contradicted = contradicted(claim, unique, closest.stream().filter(x -> overlap.get(x) > 0).toList());
        return new SentenceCheck(sentence, Set.copyOf(ids), support >= minSupport && !contradicted, support);
    }

    /**
     * Whether the claim's first word, capitalised as every first word is, is a name the evidence lacks:
     * absent from it, yet used by a few of the tenant's other chunks (at most {@link #NAME_SHARE} of
     * them), as names of products, companies or places are; ordinary words are either in many chunks or
     * in none. Document counts are read back from the index's BM25 IDF, ln(1 + (N - df + 0.5) / (df + 0.5)).
     */
    private boolean startsWithForeignName(String tenant, String claim, Set<String> knownWords) {
        Matcher first = WORD.matcher(claim);
        if (!first.find() || !Character.isUpperCase(first.group().charAt(0)) || knownWords.contains(first.group().toLowerCase(Locale.ROOT))
                || NEVER_NAMES.contains(first.group().toLowerCase(Locale.ROOT))) return false;
        List<String> terms = index.terms(first.group());
        if (terms.size() != 1) return false;
        Map<String, Double> idf = index.idf(tenant, List.of(terms.get(0), NO_TERM));
        double unseen = Math.exp(idf.get(NO_TERM)), seen = Math.exp(idf.get(terms.get(0)));
        if (seen >= unseen) return false;
        double chunks = (unseen - 2) / 2, df = (chunks + 1 - seen / 2) / seen;
        return df <= Math.max(1, NAME_SHARE * chunks);
    }

    private double overlap(String sentence, Set<String> terms, Map<String, Double> idf) {
        double sum = 0;
        for (String t : new HashSet<>(index.terms(sentence))) if (terms.contains(t)) sum += idf.get(t);
        return sum;
    }

    private static Set<String> numbers(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = NUMBER.matcher(text);
        while (m.find()) out.add(m.group().replace(",", ""));
        Matcher w = NUMBER_WORD.matcher(text);
        String previous = "";
        while (w.find()) {
            String word = w.group(1).toLowerCase(Locale.ROOT), next = w.group(2).toLowerCase(Locale.ROOT);
            String n = NUMBER_WORDS.get(word);
            if (n != null && !NOT_COUNTED_AFTER.contains(next) && !(word.equals("one") && PRONOUN_ONE.contains(previous))) out.add(n);
            previous = word;
        }
        return out;
    }

    /**
     * Whether the context sentences closest to the claim ({@code closest}, best first) contradict it: a denial the
     * claim makes that none of them makes, a denial in the closest one of something the claim says (a negation whose
     * next few words share a term with the claim) that the claim does not make, or a word of the claim whose opposite
     * the closest sentence uses instead (accepts where it says rejected).
     */
    private boolean contradicted(String claim, Set<String> claimTerms, List<String> closest) {
        if (closest.isEmpty()) return false;
        String asserted = ANSWER_PARTICLE.matcher(claim).replaceAll(" ");
        if (negated(asserted)) return closest.stream().noneMatch(c -> negated(ANSWER_PARTICLE.matcher(c).replaceAll(" ")));
        String best = closest.get(0);
        if (denies(best, claimTerms)) return true;
        Set<String> said = words(asserted), stated = words(best);
        for (List<Set<String>> pair : OPPOSITES) {
            for (int side = 0; side < 2; side++) {
                Set<String> mine = pair.get(side), theirs = pair.get(1 - side);
                if (said.stream().anyMatch(mine::contains) && said.stream().noneMatch(theirs::contains) && stated.stream().noneMatch(mine::contains)
                        && stated.stream().anyMatch(theirs::contains)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code sentence} negates something within {@link #NEGATION_SCOPE} words that shares a term with {@code terms}. */
    private boolean denies(String sentence, Set<String> terms) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(ANSWER_PARTICLE.matcher(sentence).replaceAll(" "));
        while (m.find()) tokens.add(m.group().toLowerCase(Locale.ROOT));
        for (int i = 0; i < tokens.size(); i++) {
            if (!isNegation(tokens.get(i))) continue;
            String scope = String.join(" ", tokens.subList(i + 1, Math.min(tokens.size(), i + 1 + NEGATION_SCOPE)));
            for (String t : index.terms(scope)) if (terms.contains(t)) return true;
        }
        return false;
    }

    /** Whether a sentence denies what it says: a negation word or a "n't" contraction. */
    private static boolean negated(String sentence) {
        Matcher m = TOKEN.matcher(sentence);
        while (m.find()) if (isNegation(m.group().toLowerCase(Locale.ROOT))) return true;
        return false;
    }

    private static boolean isNegation(String token) {
        return NEGATIONS.contains(token) || token.endsWith("n't") || token.endsWith("n’t");
    }

    private static Map<String, String> numberWords() {
        String[] words = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"};
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < words.length; i++) out.put(words[i], Integer.toString(i));
        String[] tens = {"thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
        for (int i = 0; i < tens.length; i++) out.put(tens[i], Integer.toString(30 + 10 * i));
        return Map.copyOf(out);
    }

    /** Capitalised words other than the sentence's first, lower-cased. */
    private static Set<String> names(String claim) {
        Set<String> out = new HashSet<>();
        Matcher m = NAME.matcher(claim);
        while (m.find()) {
            if (!WORD.matcher(claim.substring(0, m.start())).find()) continue;
            out.add(m.group().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) out.add(m.group().toLowerCase(Locale.ROOT));
        return out;
    }
}
