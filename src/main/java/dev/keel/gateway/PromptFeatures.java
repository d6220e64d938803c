package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.ingest.Tokens;
import dev.keel.model.ChatText;
import java.text.Normalizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the router measures in a chat request: sizes in cl100k tokens, how many questions and
 * listed steps the last user message asks, reasoning and comparison cues (in the languages listed
 * below, plus structure that any language shares: question marks, lists, code), code, tools and
 * the requested JSON schema's size. Keeps counts only, never text. The text scans read at most
 * {@link #SCANNED_CHARS} characters of the last user message, so any prompt is measured in bounded
 * time; sizes count the whole prompt.
 */
record PromptFeatures(long askTokens, long promptTokens, int questions, int steps, int reasoningCues, boolean code, int tools,
                      int schemaProperties, int schemaDepth, int turns) {
    /** Cues and structure sit near the start of a request; a 25 MB paste must not cost seconds of regex work. */
    static final int SCANNED_CHARS = 20_000;
    /** More than this many matches of one kind say nothing more, and the counts stay small. */
    private static final int MAX_COUNT = 50;

    /**
     * Words that ask for reasoning, explanation, proof, design or comparison, in the languages most
     * used with Keel: the cheapest tiers answer lookups well and reasoning poorly. Latin and Cyrillic
     * cues match at the start of a word (stems, so "explain" also finds "explanation"); Chinese,
     * Japanese and Korean ones anywhere, since those scripts do not separate words.
     */
    static final List<String> REASONING_CUES = List.of(
            // English
            "why", "explain", "analy", "compare", "comparison", "contrast", "versus", "vs ", "vs.", "trade-off", "tradeoff", "pros and cons",
            "advantages and disadvantages", "evaluate", "assess", "justify", "prove", "derive", "step by step", "step-by-step", "reason about",
            "design", "architect", "optimi", "debug", "refactor", "implications", "critique", "strategy", "root cause", "in depth", "in detail",
            // Spanish, Portuguese, Italian
            "por qué", "por que", "explica", "analiza", "analisa", "compara", "ventajas y desventajas", "vantagens e desvantagens",
            "demuestra", "demonstre", "diseña", "perché", "spiega", "analizza", "confronta", "dimostra", "paso a paso", "passo a passo",
            // French, German, Dutch
            "pourquoi", "expliqu", "analys", "compar", "avantages et inconvénients", "démontr", "étape par étape", "conçoi",
            "warum", "erklär", "analysier", "vergleich", "vor- und nachteile", "beweis", "begründ", "schritt für schritt", "entwirf",
            "waarom", "leg uit", "vergelijk",
            // Russian, Polish
            "почему", "объясн", "сравн", "проанализ", "докаж", "обоснуй", "плюсы и минусы", "dlaczego", "wyjaśnij", "porównaj",
            // Chinese, Japanese, Korean
            "为什么", "為什麼", "解释", "解釋", "比较", "比較", "分析", "证明", "證明", "优缺点", "優缺點", "权衡", "设计", "推导",
            "なぜ", "説明", "理由", "設計", "왜", "설명", "비교", "분석", "증명");
    /** Words that open code or queries in the languages people paste most; with symbol density below, they mark code. */
    private static final Pattern CODE_KEYWORDS = Pattern.compile(
            "(?m)^\\s*(def |class |public |private |static |function |fn |func |import |from \\S+ import|#include|package |const |let |var |"
                    + "SELECT |INSERT |UPDATE |CREATE TABLE|for \\(|for \\S+ in |if \\(|while \\(|return )");
    /** A fenced block (Markdown) is code in every language. */
    private static final String FENCE = "```";
    /** Lines ending like statements or blocks ({ } ; ) or starting with indentation plus a call: code, whatever the natural language. */
    private static final Pattern CODE_LINE = Pattern.compile("(?m)^.*[;{}]\\s*$");
    /** At least this many statement-like lines, or keyword lines (or one of each), before a message counts as containing code. */
    private static final int MIN_CODE_LINES = 3, MIN_KEYWORD_LINES = 2;
    /** A numbered or bulleted line: each is one more thing asked for. */
    private static final Pattern STEP_LINE = Pattern.compile("(?m)^\\s*(\\d{1,2}[.)]|[-*•]|[a-z][.)])\\s+\\S");
    /**
     * Question marks (Latin, and Arabic; NFKC folds the CJK full-width one into the Latin), counted when
     * they are not followed by an ASCII word character or URL punctuation, so query strings in URLs do not count
     * while CJK text, which puts no space after them, does.
     */
    private static final Pattern QUESTION = Pattern.compile("[?؟](?![\\w=&%/])");

    /** Measures {@code request} (an OpenAI chat request, already validated). */
    static PromptFeatures of(ObjectNode request) {
        String text = ChatText.lastUser(request);
        Ask ask = Ask.of(text);
        JsonNode schema = request.path("response_format").path("json_schema").path("schema");
        return new PromptFeatures(Tokens.count(text), TokenEstimate.prompt(request), ask.questions(), ask.steps(), ask.reasoningCues(), ask.code(),
                request.path("tools").size(), schema.isObject() ? properties(schema, 0) : 0, schema.isObject() ? depth(schema, 0) : 0,
                request.path("messages").size());
    }

    /** What the last user message asks for, read from its first {@link #SCANNED_CHARS} characters (no token counting). */
    record Ask(int questions, int steps, int reasoningCues, boolean code) {
        static Ask of(ObjectNode request) {
            return of(ChatText.lastUser(request));
        }

        static Ask of(String text) {
            String scanned = Normalizer.normalize(text.length() > SCANNED_CHARS ? text.substring(0, SCANNED_CHARS) : text, Normalizer.Form.NFKC);
            return new Ask(count(QUESTION, scanned), count(STEP_LINE, scanned), PromptFeatures.reasoningCues(scanned.toLowerCase(Locale.ROOT).replace('’', '\'')),
                    hasCode(scanned));
        }
    }

    /** The features by name, for the trace. */
    Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("ask_tokens", askTokens);
        m.put("prompt_tokens", promptTokens);
        m.put("questions", (long) questions);
        m.put("steps", (long) steps);
        m.put("reasoning_cues", (long) reasoningCues);
        m.put("code", code ? 1L : 0L);
        m.put("tools", (long) tools);
        m.put("schema_properties", (long) schemaProperties);
        m.put("schema_depth", (long) schemaDepth);
        m.put("turns", (long) turns);
        return m;
    }

    private static int count(Pattern p, String text) {
        var m = p.matcher(text);
        int n = 0;
        while (n < MAX_COUNT && m.find()) n++;
        return n;
    }

    /**
     * Cues present, counted once per place they start (so "compare" matching both "compar" and
     * "compare" counts once); a Latin or Cyrillic cue counts only at the start of a word.
     */
    static int reasoningCues(String lower) {
        java.util.Set<Integer> starts = new java.util.HashSet<>();
        for (String cue : REASONING_CUES) {
            int at = firstAt(lower, cue);
            if (at >= 0) starts.add(at);
        }
        return starts.size();
    }

    private static int firstAt(String text, String cue) {
        Character.UnicodeScript script = Character.UnicodeScript.of(cue.codePointAt(0));
        boolean spaced = script == Character.UnicodeScript.LATIN || script == Character.UnicodeScript.CYRILLIC;
        for (int i = text.indexOf(cue); i >= 0; i = text.indexOf(cue, i + 1)) {
            if (!spaced || i == 0 || !Character.isLetter(text.codePointBefore(i))) return i;
        }
        return -1;
    }

    static boolean hasCode(String text) {
        if (text.contains(FENCE)) return true;
        int keywords = count(CODE_KEYWORDS, text), lines = count(CODE_LINE, text);
        return lines >= MIN_CODE_LINES || keywords >= MIN_KEYWORD_LINES || (keywords >= 1 && lines >= 1);
    }

    /** Properties declared anywhere in a JSON Schema, bounded. */
    private static int properties(JsonNode schema, int depth) {
        if (depth > MAX_COUNT) return 0;
        int n = schema.path("properties").size();
        for (JsonNode child : schema) {
            if (child.isContainerNode()) n += properties(child, depth + 1);
            if (n >= MAX_COUNT) return MAX_COUNT;
        }
        return n;
    }

    /** How deeply a JSON Schema nests objects and arrays, bounded. */
    private static int depth(JsonNode schema, int depth) {
        if (depth >= MAX_COUNT) return depth;
        int deepest = depth;
        for (JsonNode child : schema.path("properties")) deepest = Math.max(deepest, depth(child, depth + 1));
        if (schema.path("items").isObject()) deepest = Math.max(deepest, depth(schema.path("items"), depth + 1));
        return deepest;
    }
}
