package dev.keel.rag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * A golden question file (JSONL: question, answerable, expected sources and facts, optional split)
 * asked of the sample corpus, and the figures a golden-set test asserts and prints.
 */
final class GoldenQuestions {
    record Result(JsonNode question, Answer answer) {
        boolean answerable() {
            return question.get("answerable").asBoolean();
        }

        String split() {
            return question.path("split").asText("all");
        }

        boolean citesExpectedSource() {
            List<String> expected = new ArrayList<>();
            question.get("sources").forEach(s -> expected.add(s.asText()));
            return answer.answered() && answer.citations().stream().anyMatch(c -> expected.stream().anyMatch(e -> c.source().endsWith("/" + e)));
        }

        boolean containsFacts() {
            for (JsonNode f : question.get("facts")) {
                if (!answer.text().toLowerCase(Locale.ROOT).contains(f.asText().toLowerCase(Locale.ROOT))) return false;
            }
            return true;
        }
    }

    /** What a set scored: answerable questions answered, citing an expected source, holding the facts; unanswerable ones answered anyway. */
    record Figures(int answerable, int answered, int rightSource, int withFacts, int unanswerable, int unanswerableAnswered) {
        static Figures of(List<Result> results) {
            List<Result> a = results.stream().filter(Result::answerable).toList();
            List<Result> u = results.stream().filter(r -> !r.answerable()).toList();
            return new Figures(a.size(), (int) a.stream().filter(r -> r.answer().answered() && !r.answer().citations().isEmpty()).count(),
                    (int) a.stream().filter(Result::citesExpectedSource).count(), (int) a.stream().filter(Result::containsFacts).count(),
                    u.size(), (int) u.stream().filter(r -> r.answer().answered()).count());
        }

        double rightSourceRate() {
            return (double) rightSource / answerable;
        }

        double unanswerableAnsweredRate() {
            return (double) unanswerableAnswered / unanswerable;
        }

        @Override
        public String toString() {
            return "answered %d/%d, expected source cited %d/%d, facts %d/%d; unanswerable answered %d/%d"
                    .formatted(answered, answerable, rightSource, answerable, withFacts, answerable, unanswerableAnswered, unanswerable);
        }
    }

    private GoldenQuestions() {}

    static List<Result> ask(Path file) {
        Keel keel = SampleCorpus.keel();
        ObjectMapper json = new ObjectMapper();
        List<Result> results = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) continue;
                JsonNode q = json.readTree(line);
                Answer a = keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, q.get("question").asText(), SearchFilters.NONE),
                        keel.traces().start("golden", Keel.DEFAULT_TENANT));
                results.add(new Result(q, a));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return results;
    }

    static Figures figures(List<Result> results, Predicate<Result> which) {
        return Figures.of(results.stream().filter(which).toList());
    }
}
