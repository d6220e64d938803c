package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.http.ApiViews;
import dev.keel.http.Json;
import dev.keel.index.SearchFilters;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
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

    @Option(names = "--json", description = "Print one JSON object (answer, answered, citations, grounding, trace_id, …).")
    boolean json;

    @Option(names = "--model", paramLabel = "MODEL",
            description = "The chat model that writes the answer from the documents (default: answer.model of keel.yaml; 'extractive': no model).")
    String model;

    @Override
    public Integer call() {
        try (Keel keel = common.open()) {
            Trace trace = keel.traces().start("ask", common.tenant);
            Answer a;
            try {
                a = keel.answers().answer(new AnswerRequest(common.tenant, question, SearchFilters.NONE, model, null), trace);
            } catch (ApiException | ProviderException e) {
                System.err.println("keel: " + e.getMessage());
                return 2;
            } finally {
                trace.finish();
            }
            if (json) System.out.println(Json.write(ApiViews.answer(a, trace.elapsedMs())));
            else print(a, System.out);
            return 0;
        }
    }

    static void print(Answer a, PrintStream out) {
        out.println(a.text());
        if (a.degraded()) out.println("  (every provider of the model is down: this is the extractive answer)");
        if (a.grounding() != null && !a.grounding().unsupported().isEmpty()) {
            out.println("  not supported by the cited documents: " + String.join(" | ", a.grounding().unsupported()));
        }
        for (Citation c : a.citations()) {
            out.println("  [" + c.n() + "] " + c.source() + (c.section().isEmpty() ? "" : " › " + c.section()));
        }
    }
}
