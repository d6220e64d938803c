package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.http.ApiViews;
import dev.keel.http.Json;
import dev.keel.index.SearchFilters;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import dev.keel.rag.Citation;
import dev.keel.trace.Trace;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel ask "…"}: a grounded, cited answer from the local index. */
@Command(name = "ask", mixinStandardHelpOptions = true, description = "Answer a question from the indexed documents, with citations.")
final class AskCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "QUESTION")
    String question;

    @Option(names = "--json", description = "Print one JSON object (answer, answered, citations, trace_id, …).")
    boolean json;

    @Override
    public Integer call() {
        try (Keel keel = common.open()) {
            Trace trace = keel.traces().start("ask", common.tenant);
            Answer a = keel.answers().answer(new AnswerRequest(common.tenant, question, SearchFilters.NONE), trace);
            trace.finish();
            if (json) System.out.println(Json.write(ApiViews.answer(a, trace.elapsedMs())));
            else print(a, System.out);
            return 0;
        }
    }

    static void print(Answer a, PrintStream out) {
        out.println(a.text());
        for (Citation c : a.citations()) {
            out.println("  [" + c.n() + "] " + c.source() + (c.section().isEmpty() ? "" : " › " + c.section()));
        }
    }
}
