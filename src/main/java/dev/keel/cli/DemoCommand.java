package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.index.SearchFilters;
import dev.keel.ingest.IngestReport;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import dev.keel.trace.Trace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keel demo}: ingest the bundled sample docs, answer three questions, then serve. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Ingest the bundled sample docs, print three cited answers, then serve the API on localhost.")
final class DemoCommand implements Callable<Integer> {
    static final List<String> QUESTIONS = List.of(
            "How long do I have to request a refund on an annual plan?",
            "What is the API rate limit on the Team plan?",
            "How do I rotate an API key?");

    @Mixin
    CommonOptions common;

    @Mixin
    ServerOptions listen;

    @Option(names = "--docs", paramLabel = "DIR", description = "Documents to ingest (default: the bundled samples/docs).")
    Path docs;

    @Option(names = "--no-serve", description = "Stop after the sample answers.")
    boolean noServe;

    @Override
    public Integer call() throws InterruptedException {
        Path folder = docs != null ? docs : samples();
        KeelConfig config = listen.apply(common.loadConfig());
        if (!noServe) HttpServer.checkCanListen(config.server()); // a taken port is said before a minute of ingesting, not after
        try (Keel keel = common.open(config)) {
            System.out.println("Ingesting " + folder + " into " + common.dataDir() + " (--data DIR for another; documents already there stay and can be cited) …");
            Trace trace = keel.traces().start("ingest", common.tenant);
            IngestReport report = keel.ingestor().ingestPaths(common.tenant, List.of(folder), true, trace, new ProgressBar(System.err, "files"));
            trace.finish();
            IngestCommand.summarize(report, System.out);
            for (String q : QUESTIONS) {
                Trace t = keel.traces().start("ask", common.tenant);
                Answer a = keel.answers().answer(new AnswerRequest(common.tenant, q, SearchFilters.NONE), t);
                t.finish();
                System.out.println();
                System.out.println("Q: " + q);
                AskCommand.print(a, System.out);
            }
            System.out.println();
            if (!noServe) {
                if (keel.gateway().models().contains(dev.keel.gateway.ChatGateway.EXTRACTIVE_MODEL)) {
                    int port = keel.config().server().port();
                    System.out.printf("Any OpenAI client can chat with these documents, offline: base URL http://localhost:%d/v1, model %s, e.g.%n"
                            + "  curl -s localhost:%d/v1/chat/completions -H 'Content-Type: application/json' \\%n"
                            + "    -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Are monthly plans refundable?\"}]}'%n%n",
                            port, dev.keel.gateway.ChatGateway.EXTRACTIVE_MODEL, port, dev.keel.gateway.ChatGateway.EXTRACTIVE_MODEL);
                }
                ServeCommand.serve(keel);
            }
        }
        return 0;
    }

    static Path samples() {
        String home = System.getenv("KEEL_HOME");
        for (Path p : List.of(Path.of(home == null ? "." : home, "samples", "docs"), Path.of("samples", "docs"))) {
            if (Files.isDirectory(p)) return p.toAbsolutePath().normalize();
        }
        throw new IllegalArgumentException("sample docs not found; run from the Keel checkout or pass --docs DIR");
    }
}
