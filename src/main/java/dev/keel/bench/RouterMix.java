package dev.keel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A labelled mix of chat requests for the router benchmark, generated from templates and fillers
 * with a seeded random: simple lookups (level 1), everyday work that needs a mid-sized model (level
 * 2: comparisons, code fixes, tool calls, larger schemas, several questions) and long analyses
 * (level 3), in English and a few other languages. Some templates are deliberately misleading for
 * a rule-based classifier (a short question that needs a capable model, a "why" that any model
 * answers), so the benchmark measures escalations and over-routing too. Each item carries the
 * reference reply a capable model gives, and a model of lower capability fails it visibly.
 */
final class RouterMix {
    /** What a reply must be: text, a JSON object for a schema, or a tool call. */
    enum Kind { TEXT, JSON, TOOL }

    /**
     * One request: its difficulty {@code level} (1-3), what it asks for, the request, the reference
     * reply (text, JSON or tool arguments), and whether a too-short reply is visible to the checks
     * (the request asks for an explanation or several answers).
     */
    record Item(int id, int level, Kind kind, ObjectNode request, String reference, boolean needsDetail) {
        String question() {
            return request.get("messages").get(0).get("content").asText();
        }
    }

    private record Template(int level, Kind kind, boolean needsDetail, Function<Random, String> text) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COUNTRIES = {"France", "Japan", "Brazil", "Kenya", "Canada", "Norway", "Chile", "Egypt", "India", "Poland",
            "Vietnam", "Peru", "Ghana", "Spain", "Italy", "Mexico", "Turkey", "Greece", "Sweden", "Australia"};
    private static final String[] PAISES = {"Francia", "Japón", "Brasil", "Kenia", "Canadá", "Noruega", "Chile", "Egipto", "India", "Polonia"};
    private static final String[] GUOJIA = {"法国", "日本", "巴西", "肯尼亚", "加拿大", "挪威", "智利", "埃及", "印度", "波兰"};
    private static final String[] BOOKS = {"Moby-Dick", "War and Peace", "Don Quixote", "Hamlet", "The Trial", "Beloved", "Dune", "Ulysses"};
    private static final String[] WORDS = {"house", "river", "friendship", "window", "bread", "mountain", "library", "summer", "bicycle"};
    private static final String[] LANGUAGES = {"French", "German", "Spanish", "Japanese", "Italian", "Portuguese"};
    private static final String[] ACRONYMS = {"HTTP", "JSON", "NASA", "UNESCO", "GDPR", "SQL", "CPU", "DNS", "ISBN"};
    private static final String[] ELEMENTS = {"gold", "iron", "sodium", "potassium", "silver", "tin", "lead", "mercury"};
    private static final String[] PAIRS = {"PostgreSQL|MySQL", "Kafka|RabbitMQ", "REST|gRPC", "React|Vue", "Redis|Memcached", "Go|Rust",
            "Kubernetes|Nomad", "S3|a shared NFS volume", "threads|processes", "TCP|UDP"};
    private static final String[] USES = {"a write-heavy ledger", "a chat backend", "an analytics pipeline", "a small team's internal tool",
            "a mobile API", "a job queue"};
    private static final String[] TOPICS = {"a multi-region rate limiter", "tenant isolation in a shared PostgreSQL database",
            "a zero-downtime migration of our billing tables", "an event-sourced order system", "a search index rebuilt without downtime",
            "a feature-flag service for 200 microservices"};
    private static final String[] BUGGY = {
            "def average(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total / len(xs) - 1\n",
            "function last(items) {\n  return items[items.length];\n}\n",
            "for (int i = 0; i <= list.size(); i++) {\n    sum += list.get(i);\n}\n",
            "SELECT name, COUNT(*) FROM orders\nWHERE status = 'open'\nGROUP BY customer_id;\n"};

    private static final List<Template> TEMPLATES = List.of(
            // Level 1: lookups any model answers; a few carry a "why" or "explain" that a small model handles anyway.
            simple(r -> "What is the capital of " + pick(r, COUNTRIES) + "?"),
            simple(r -> "¿Cuál es la capital de " + pick(r, PAISES) + "?"),
            simple(r -> pick(r, GUOJIA) + "的首都是哪里？"),
            simple(r -> "Quelle est la capitale de " + pick(r, COUNTRIES) + " ?"),
            simple(r -> "Who wrote " + pick(r, BOOKS) + "?"),
            simple(r -> "Translate '" + pick(r, WORDS) + "' into " + pick(r, LANGUAGES) + "."),
            simple(r -> "What does " + pick(r, ACRONYMS) + " stand for?"),
            simple(r -> "What is the chemical symbol for " + pick(r, ELEMENTS) + "?"),
            simple(r -> "Convert " + (5 + r.nextInt(500)) + " miles to kilometres."),
            simple(r -> "What is " + (2 + r.nextInt(90)) + " times " + (2 + r.nextInt(90)) + "?"),
            simple(r -> "Is " + (100 + r.nextInt(9000)) + " a prime number?"),
            simple(r -> "Give me a synonym for '" + pick(r, WORDS) + "'."),
            simple(r -> "Wie heißt die Hauptstadt von " + pick(r, COUNTRIES) + "?"),
            simple(r -> "How many days are there in " + (1 + r.nextInt(12)) + " weeks?"),
            new Template(1, Kind.TEXT, true, r -> "Why is the sky blue in " + pick(r, COUNTRIES) + " at noon?"),
            new Template(1, Kind.TEXT, true, r -> "Explain what " + pick(r, ACRONYMS) + " stands for."),
            new Template(1, Kind.JSON, false, r -> "Return the ISO 3166 alpha-2 code of " + pick(r, COUNTRIES) + " as JSON."),
            // Simple requests the rules over-rate: a lookup through a tool, a short comparison of two facts.
            new Template(1, Kind.TOOL, false, r -> "What's the weather in " + pick(r, COUNTRIES) + "'s capital today?"),
            simple(r -> "Compare the populations of " + pick(r, COUNTRIES) + " and " + pick(r, COUNTRIES) + ": which is larger?"),
            // Level 2: a mid-sized model's work. Some look simple to the rules (short, one cue) and must escalate.
            medium(true, r -> {
                String[] p = pick(r, PAIRS).split("\\|");
                return "Compare " + p[0] + " and " + p[1] + " for " + pick(r, USES) + ", explain the trade-offs and which you would choose.";
            }),
            medium(true, r -> {
                String[] p = pick(r, PAIRS).split("\\|");
                return "What is the difference between " + p[0] + " and " + p[1] + "? When should I use each?";
            }),
            medium(false, r -> "Fix the bug in this code and show the corrected version:\n```\n" + pick(r, BUGGY) + "```"),
            medium(true, r -> "Explain step by step how " + pick(r, PAIRS).split("\\|")[0] + " handles failures, and why it matters for "
                    + pick(r, USES) + "."),
            medium(true, r -> {
                String[] p = pick(r, PAIRS).split("\\|");
                return "Vergleiche " + p[0] + " und " + p[1] + " und erkläre die Vor- und Nachteile für " + pick(r, USES) + ".";
            }),
            medium(true, r -> {
                String[] p = pick(r, PAIRS).split("\\|");
                return "比较" + p[0] + "和" + p[1] + "的优缺点。";
            }),
            medium(false, r -> "Write a SQL query that lists the ten customers of " + pick(r, COUNTRIES)
                    + " with the highest total order value last month, from tables customers(id, name, country) and orders(customer_id, total, created_at)."),
            new Template(2, Kind.JSON, false, r -> "Extract the invoice fields from this text: Invoice " + (1000 + r.nextInt(9000)) + " from "
                    + pick(r, COUNTRIES) + " Trading Ltd, due in 30 days, 3 items, total 1,240.50 EUR, VAT 20%, PO 77-" + r.nextInt(100) + "."),
            new Template(2, Kind.TOOL, false, r -> "What will the weather be in " + pick(r, COUNTRIES) + "'s capital tomorrow afternoon?"),
            // Level 3: long analyses and plans.
            new Template(3, Kind.TEXT, true, r -> "Design " + pick(r, TOPICS) + " for our platform. Compare at least two approaches, explain the"
                    + " trade-offs of each, analyse the failure modes under load and during a regional outage, and justify the one you would"
                    + " pick. Then give a rollout plan step by step with the metrics to watch, the conditions for rolling back, and the"
                    + " tests that prove it correct before it ships. We have three engineers and one quarter."),
            new Template(3, Kind.TEXT, true, r -> "Review this code for correctness and performance, explain why each problem matters, and"
                    + " propose a refactor with its trade-offs:\n```\n" + pick(r, BUGGY) + pick(r, BUGGY) + "```\nAlso compare your refactor"
                    + " with keeping the current design, and evaluate the risk of each for " + pick(r, USES) + "."),
            new Template(3, Kind.TEXT, true, r -> "Analysiere " + pick(r, TOPICS) + ": vergleiche zwei Architekturen, begründe deine Wahl,"
                    + " erkläre die Risiken Schritt für Schritt und beweise, dass keine Anfrage verloren geht. Warum ist das wichtig?"));

    /** Shares of each level in the mix: 70% simple, 25% medium, 5% complex. */
    static final double[] LEVEL_SHARES = {0.70, 0.25, 0.05};

    private RouterMix() {}

    private static Template simple(Function<Random, String> text) {
        return new Template(1, Kind.TEXT, false, text);
    }

    private static Template medium(boolean needsDetail, Function<Random, String> text) {
        return new Template(2, Kind.TEXT, needsDetail, text);
    }

    private static String pick(Random r, String[] values) {
        return values[r.nextInt(values.length)];
    }

    /** {@code n} items in the shares of {@link #LEVEL_SHARES}, shuffled with {@code seed}. */
    static List<Item> generate(int n, long seed) {
        Random r = new Random(seed);
        List<Item> items = new ArrayList<>();
        for (int level = 1; level <= 3; level++) {
            int count = level == 3 ? n - items.size() : (int) Math.round(n * LEVEL_SHARES[level - 1]);
            List<Template> of = new ArrayList<>();
            for (Template t : TEMPLATES) if (t.level() == level) of.add(t);
            for (int i = 0; i < count; i++) {
                Template t = of.get(r.nextInt(of.size()));
                int id = items.size();
                // Each prompt ends with its id, so every request is distinct (no cache could serve it) and the fake can look it up.
                String question = t.text().apply(r) + " (#" + id + ")";
                items.add(new Item(id, level, t.kind(), request(t.kind(), question), reference(t.kind(), level, id), t.needsDetail()));
            }
        }
        java.util.Collections.shuffle(items, r);
        return items;
    }

    private static ObjectNode request(Kind kind, String question) {
        ObjectNode req = JSON.createObjectNode().put("model", "auto");
        req.putArray("messages").addObject().put("role", "user").put("content", question);
        if (kind == Kind.JSON) {
            ObjectNode schema = req.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "answer")
                    .putObject("schema").put("type", "object");
            schema.putArray("required").add("value");
            schema.putObject("properties").putObject("value").put("type", "string");
        }
        if (kind == Kind.TOOL) {
            ObjectNode fn = req.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "weather");
            ObjectNode params = fn.putObject("parameters").put("type", "object");
            params.putArray("required").add("city").add("day");
            params.putObject("properties").putObject("city").put("type", "string");
            ((ObjectNode) params.get("properties")).putObject("day").put("type", "string");
        }
        return req;
    }

    /** What a capable model replies: longer for harder requests (about 30, 250 and 700 tokens of text). */
    private static String reference(Kind kind, int level, int id) {
        return switch (kind) {
            case JSON -> "{\"value\":\"answer-" + id + "\"}";
            case TOOL -> "{\"city\":\"city-" + id + "\",\"day\":\"tomorrow\"}";
            case TEXT -> ("Answer " + id + ": ") + "this sentence stands for a careful, complete and correct reply to the request. "
                    .repeat(level == 1 ? 2 : level == 2 ? 16 : 45);
        };
    }
}
