package dev.keel.bench;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.Sentences;
import dev.keel.rag.Grounding;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The grounding check on answers built from a corpus (the sample docs by default). From every
 * chunk it takes up to {@value #SENTENCES_PER_CHUNK} sentences and writes one-sentence answers that
 * cite that chunk, in a context of the chunk and {@value #DISTRACTORS} chunks of other documents:
 * supported ones (quoted, lightly paraphrased by generic word substitutions and a lead-in, cut to
 * the first clause) and unsupported ones (a fact from a random other document, a fact from the
 * other document's chunk that BM25 finds closest to the sentence, a name swapped for one the chunk
 * never mentions, a number changed). Prints the share of unsupported answers flagged
 * and of supported ones flagged wrongly, per kind, and the checker's latency. Seeded: the same
 * corpus gives the same answers.
 */
public final class GroundingBench {
    private static final int SENTENCES_PER_CHUNK = 2;
    private static final int DISTRACTORS = 2;
    /** BM25 hits searched for a chunk of another document that is close to a claim. */
    private static final int RELATED_HITS = 10;
    /** Shorter sentences are mostly fragments (table cells, labels) that no answer would quote. */
    private static final int MIN_WORDS = 6;
    private static final Pattern NUMBER = Pattern.compile("\\d+");
    private static final Pattern WORD = Pattern.compile("\\p{L}[\\p{L}\\p{N}]*");
    /** A word after a lower-case word and a space: not the first of its sentence, so capitalised only if it is a name. */
    private static final Pattern MID_SENTENCE_WORD = Pattern.compile("(?<=\\p{Ll},? )\\p{L}[\\p{L}\\p{N}]*");
    private static final Map<String, String> SYNONYMS = synonyms("can=may must=has to within=in after=following before=prior to receive=get"
            + " get=receive use=employ uses=employs allow=let allows=lets require=need requires=needs also=additionally only=solely"
            + " immediately=right away contact=reach create=make delete=remove deleted=removed start=begin starts=begins show=display"
            + " shows=displays choose=pick select=pick send=deliver sends=delivers stored=kept store=keep help=assist buy=purchase"
            + " purchase=buy often=frequently every=each each=every about=around enough=sufficient large=big quickly=rapidly"
            + " automatically=on its own include=contain includes=contains change=modify changes=modifies");
    private static final List<String> LEAD_INS = List.of("According to the documentation, ", "The documents say that ", "As described, ");

    /** Rates in [0, 1] overall and per kind of answer; the checker's latency per answer in ms. */
    public record Result(int supported, int unsupported, double flaggedUnsupported, double flaggedSupported, Map<String, Double> flaggedByKind,
                         Map<String, Integer> answersByKind, double p50Ms, double p99Ms, double meanMs) {}

    private record Case(String kind, boolean supported, String answer, List<SearchHit> context) {}

    private GroundingBench() {}

    /** Runs on {@code docs}; {@code showMisses} logs every answer the checker misjudged. */
    public static Result run(Path docs, Path work, KeelConfig config, long seed, boolean showMisses, PrintStream log) {
        try (Keel keel = Keel.open(config, work.resolve("data"))) {
            String tenant = Keel.DEFAULT_TENANT;
            log.println("grounding: ingesting " + docs + "…");
            keel.ingestor().ingestPaths(tenant, List.of(docs), false, keel.traces().start("bench", tenant), IngestListener.NONE);
            List<List<ChunkRecord>> documents = new ArrayList<>();
            for (DocumentRecord d : keel.index().documents(tenant, 0, 10_000)) documents.add(keel.index().chunks(tenant, d.docId()));
            Function<String, List<SearchHit>> related = text -> keel.answers().search(tenant, text, SearchMode.BM25, RELATED_HITS,
                    keel.answers().searchSettings(), SearchFilters.NONE, false, keel.traces().start("bench", tenant)).hits();
            List<Case> cases = cases(documents, related, new Random(seed));
            log.println("grounding: checking " + cases.size() + " answers…");
            for (Case c : cases.subList(0, Math.min(20, cases.size()))) keel.answers().checkGrounding(tenant, "", c.answer(), c.context());
            Map<String, int[]> byKind = new TreeMap<>();
            double[] ms = new double[cases.size()];
            int supported = 0, unsupported = 0, flaggedSupported = 0, flaggedUnsupported = 0;
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                long t = System.nanoTime();
                Grounding g = keel.answers().checkGrounding(tenant, "", c.answer(), c.context());
                ms[i] = (System.nanoTime() - t) / 1e6;
                boolean flagged = !g.unsupported().isEmpty();
                if (showMisses && flagged == c.supported()) log.println((flagged ? "flagged " : "missed  ") + c.kind() + ": " + c.answer());
                int[] k = byKind.computeIfAbsent(c.kind(), x -> new int[2]);
                k[0]++;
                if (flagged) k[1]++;
                if (c.supported()) {
                    supported++;
                    if (flagged) flaggedSupported++;
                } else {
                    unsupported++;
                    if (flagged) flaggedUnsupported++;
                }
            }
            Map<String, Double> rates = new LinkedHashMap<>();
            Map<String, Integer> counts = new LinkedHashMap<>();
            byKind.forEach((kind, k) -> {
                rates.put(kind, k[1] / (double) k[0]);
                counts.put(kind, k[0]);
            });
            double mean = 0;
            for (double m : ms) mean += m / ms.length;
            return new Result(supported, unsupported, flaggedUnsupported / (double) unsupported, flaggedSupported / (double) supported, rates, counts,
                    Measurements.percentile(ms, 50), Measurements.percentile(ms, 99), mean);
        }
    }

    private static List<Case> cases(List<List<ChunkRecord>> documents, Function<String, List<SearchHit>> related, Random random) {
        Set<String> names = properNames(documents);
        List<Case> out = new ArrayList<>();
        for (int d = 0; d < documents.size(); d++) {
            for (ChunkRecord chunk : documents.get(d)) {
                List<String> sentences = new ArrayList<>(Sentences.split(chunk.body()).stream().filter(s -> s.split("\\s+").length >= MIN_WORDS).toList());
                Collections.shuffle(sentences, random);
                for (String s : sentences.subList(0, Math.min(SENTENCES_PER_CHUNK, sentences.size()))) {
                    List<SearchHit> context = new ArrayList<>();
                    for (int i = 0; i < DISTRACTORS; i++) context.add(hit(randomChunk(documents, d, random)));
                    int at = random.nextInt(context.size() + 1);
                    context.add(at, hit(chunk));
                    String cite = " [" + (at + 1) + "]";
                    String claim = withoutFullStop(s);
                    out.add(new Case("supported: quoted", true, claim + cite + ".", context));
                    out.add(new Case("supported: paraphrased", true, paraphrase(claim, random) + cite + ".", context));
                    int comma = claim.indexOf(", ");
                    if (comma > 0 && claim.substring(0, comma).split("\\s+").length >= MIN_WORDS) {
                        out.add(new Case("supported: first clause", true, claim.substring(0, comma) + cite + ".", context));
                    }
                    String foreign = foreignSentence(documents, d, random);
                    if (foreign != null) out.add(new Case("unsupported: fact from another document", false, withoutFullStop(foreign) + cite + ".", context));
                    String near = relatedSentence(claim, chunk, related, random);
                    if (near != null) out.add(new Case("unsupported: fact from a related document", false, withoutFullStop(near) + cite + ".", context));
                    String swapped = swapName(claim, chunk, names, random);
                    if (swapped != null) out.add(new Case("unsupported: name swapped", false, swapped + cite + ".", context));
                    String changed = changeNumber(claim, chunk, random);
                    if (changed != null) out.add(new Case("unsupported: number changed", false, changed + cite + ".", context));
                }
            }
        }
        return out;
    }

    private static SearchHit hit(ChunkRecord c) {
        return new SearchHit(c, 1, 0, 0, 0, 0);
    }

    private static ChunkRecord randomChunk(List<List<ChunkRecord>> documents, int except, Random random) {
        while (true) {
            int d = random.nextInt(documents.size());
            if (d != except && !documents.get(d).isEmpty()) return documents.get(d).get(random.nextInt(documents.get(d).size()));
        }
    }

    private static String foreignSentence(List<List<ChunkRecord>> documents, int except, Random random) {
        for (int attempt = 0; attempt < 20; attempt++) {
            List<String> s = Sentences.split(randomChunk(documents, except, random).body()).stream().filter(x -> x.split("\\s+").length >= MIN_WORDS).toList();
            if (!s.isEmpty()) return s.get(random.nextInt(s.size()));
        }
        return null;
    }

    /** A sentence of the chunk of another document that BM25 finds closest to the claim: a plausible fact the cited chunk does not state. */
    private static String relatedSentence(String claim, ChunkRecord chunk, Function<String, List<SearchHit>> related, Random random) {
        for (SearchHit h : related.apply(claim)) {
            if (h.chunk().docId().equals(chunk.docId())) continue;
            List<String> s = Sentences.split(h.chunk().body()).stream().filter(x -> x.split("\\s+").length >= MIN_WORDS).toList();
            if (!s.isEmpty()) return s.get(random.nextInt(s.size()));
        }
        return null;
    }

    /** Generic word substitutions (up to three) and, every other time, a lead-in: wording that differs, meaning that does not. */
    static String paraphrase(String claim, Random random) {
        String[] words = claim.split(" ");
        List<Integer> replaceable = new ArrayList<>();
        for (int i = 0; i < words.length; i++) if (SYNONYMS.containsKey(words[i].toLowerCase(Locale.ROOT))) replaceable.add(i);
        Collections.shuffle(replaceable, random);
        for (int i : replaceable.subList(0, Math.min(3, replaceable.size()))) {
            String w = SYNONYMS.get(words[i].toLowerCase(Locale.ROOT));
            words[i] = Character.isUpperCase(words[i].charAt(0)) ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w;
        }
        String out = String.join(" ", words);
        if (random.nextBoolean()) {
            String lead = LEAD_INS.get(random.nextInt(LEAD_INS.size()));
            boolean name = out.length() > 1 && Character.isUpperCase(out.charAt(1));
            out = lead + (name ? out : Character.toLowerCase(out.charAt(0)) + out.substring(1));
        }
        return out;
    }

    /**
     * Words the corpus capitalises within sentences and never writes in lower case: names of products,
     * companies, places, people.
     */
    private static Set<String> properNames(List<List<ChunkRecord>> documents) {
        Set<String> capitalised = new java.util.TreeSet<>(), lower = new java.util.HashSet<>();
        for (List<ChunkRecord> doc : documents) {
            for (ChunkRecord c : doc) {
                Matcher m = MID_SENTENCE_WORD.matcher(c.body());
                while (m.find()) (Character.isUpperCase(m.group().charAt(0)) ? capitalised : lower).add(m.group());
            }
        }
        capitalised.removeIf(w -> w.length() < 3 || lower.contains(w.toLowerCase(Locale.ROOT)));
        return capitalised;
    }

    /** The claim with one of its names replaced by a name its chunk never mentions. */
    private static String swapName(String claim, ChunkRecord chunk, Set<String> names, Random random) {
        List<String> own = new ArrayList<>();
        Matcher m = WORD.matcher(claim);
        while (m.find()) if (names.contains(m.group())) own.add(m.group());
        String known = (chunk.title() + " " + chunk.section() + " " + chunk.body()).toLowerCase(Locale.ROOT);
        List<String> others = names.stream().filter(n -> !known.contains(n.toLowerCase(Locale.ROOT))).toList();
        if (own.isEmpty() || others.isEmpty()) return null;
        String name = own.get(random.nextInt(own.size()));
        return claim.replaceFirst("\\b" + Pattern.quote(name) + "\\b", Matcher.quoteReplacement(others.get(random.nextInt(others.size()))));
    }

    private static String changeNumber(String claim, ChunkRecord chunk, Random random) {
        List<int[]> spans = new ArrayList<>();
        Matcher m = NUMBER.matcher(claim);
        while (m.find()) if (m.group().length() <= 6) spans.add(new int[] {m.start(), m.end()});
        if (spans.isEmpty()) return null;
        int[] span = spans.get(random.nextInt(spans.size()));
        long n = Long.parseLong(claim.substring(span[0], span[1]));
        Set<String> present = new java.util.HashSet<>();
        Matcher all = NUMBER.matcher(chunk.body());
        while (all.find()) present.add(all.group());
        for (int attempt = 0; attempt < 20; attempt++) {
            long changed = random.nextBoolean() ? n + 1 + random.nextInt(9) : n * (2 + random.nextInt(3)) + 1;
            if (!present.contains(Long.toString(changed))) return claim.substring(0, span[0]) + changed + claim.substring(span[1]);
        }
        return null;
    }

    private static String withoutFullStop(String s) {
        String t = s.strip();
        while (!t.isEmpty() && ".!?;:".indexOf(t.charAt(t.length() - 1)) >= 0) t = t.substring(0, t.length() - 1);
        return t;
    }

    private static Map<String, String> synonyms(String pairs) {
        Map<String, String> out = new java.util.HashMap<>();
        for (String pair : pairs.split(" (?=[a-z]+=)")) out.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        return Map.copyOf(out);
    }
}
