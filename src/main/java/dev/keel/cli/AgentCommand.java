package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.agent.Agents;
import dev.keel.agent.RunEvent;
import dev.keel.agent.RunStatus;
import dev.keel.agent.RunView;
import dev.keel.gateway.ChatGateway;
import dev.keel.http.AgentRoutes;
import dev.keel.http.Json;
import dev.keel.model.ApiException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel agent}: run the agents of keel.yaml from the terminal. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run the agents defined in keel.yaml (agents.definitions).",
        subcommands = {AgentCommand.Run.class, AgentCommand.ListAgents.class})
final class AgentCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the agents with their descriptions and tools.")
    static final class ListAgents implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            try (Keel keel = common.open()) {
                var agents = keel.agents().list(null);
                if (agents.isEmpty()) System.out.println("no agents: define them under agents.definitions in keel.yaml");
                for (Agents.Listed a : agents) {
                    System.out.println(a.name() + (a.description().isEmpty() ? "" : " - " + a.description()));
                    System.out.println("  tools: " + (a.tools().isEmpty() ? "(none available)" : String.join(", ", a.tools())));
                }
                return 0;
            }
        }
    }

    /** How a waiting write is decided: asked on the terminal, or answered in advance. */
    static final class Decision {
        @Option(names = "--yes", description = "Confirm every write the agent asks to make, without asking.")
        boolean yes;

        @Option(names = "--no", description = "Reject every write the agent asks to make, without asking.")
        boolean no;
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Run an agent on a task: print its events as they happen, then the outcome.",
                    "A write that needs confirmation is asked about on the terminal (y/N), or decided by --yes / --no.",
                    "Exit status: 0 completed, 1 stopped otherwise (failed, limit_reached, loop_detected, needs_human), 2 refused, 3 left awaiting confirmation."})
    static final class Run implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Parameters(index = "0", paramLabel = "AGENT")
        String agent;

        @Parameters(index = "1", paramLabel = "TASK")
        String task;

        @Option(names = "--json", description = "Print only the final run (status, output, events, cost…) as one JSON object.")
        boolean json;

        @ArgGroup(exclusive = true)
        Decision decision;

        @Override
        public Integer call() throws IOException {
            try (Keel keel = common.open()) {
                ChatGateway.Caller caller = new ChatGateway.Caller(common.tenant, null);
                Consumer<RunEvent> printer = json ? e -> {} : e -> System.out.println(printable(line(e)));
                RunView run;
                try {
                    run = keel.agents().start(agent, task, caller, printer);
                    BufferedReader terminal = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                    while (run.status() == RunStatus.AWAITING_CONFIRMATION) {
                        Boolean approved = decide(run, terminal);
                        if (approved == null) break;
                        run = keel.agents().decide(run.id(), approved, caller, printer);
                    }
                } catch (ApiException e) {
                    System.err.println("keel: " + e.getMessage());
                    return 2;
                }
                if (json) System.out.println(Json.write(AgentRoutes.view(run)));
                else print(run, System.out);
                return switch (run.status()) {
                    case COMPLETED -> 0;
                    case AWAITING_CONFIRMATION -> 3;
                    default -> 1;
                };
            }
        }

        /** Yes or no from the flags, else from the terminal; null when there is no one to ask (the run stays waiting). */
        private Boolean decide(RunView run, BufferedReader terminal) throws IOException {
            if (decision != null) return decision.yes;
            if (System.console() == null) return null;
            System.out.print("confirm " + printable(run.pending().summary()) + "? [y/N] ");
            System.out.flush();
            String answer = terminal.readLine();
            return answer != null && answer.strip().toLowerCase(Locale.ROOT).startsWith("y");
        }

        static String line(RunEvent e) {
            var p = e.payload();
            return switch (e.type()) {
                case PLAN -> "plan: " + p.path("agent").asText() + " on " + p.path("model").asText() + ", tools " + p.path("tools");
                case MODEL_CALL -> "model call " + p.path("step").asInt() + ": " + e.tokens() + " tokens, " + usd(e.costUsd())
                        + (p.path("message").has("tool_calls") ? ", asks for " + names(p.path("message").path("tool_calls")) : "");
                case TOOL_CALL -> "  calling " + p.path("tool").asText();
                case TOOL_RESULT -> "  " + p.path("tool").asText() + (p.path("ok").asBoolean() ? " ok: " : " -> ") + clip(p.path("content").asText());
                case CONFIRMATION -> "waiting for confirmation: " + p.path("summary").asText();
                case DECISION -> p.path("approved").asBoolean() ? "confirmed" : "rejected";
                case RESUMED -> "resumed";
                case FINAL -> "final answer: " + p.path("output").asText().length() + " characters (below)";
                default -> e.type().wire() + ": " + p.path("reason").asText(p.path("output").asText());
            };
        }

        private static String names(com.fasterxml.jackson.databind.JsonNode calls) {
            StringBuilder out = new StringBuilder();
            calls.forEach(c -> out.append(out.isEmpty() ? "" : ", ").append(c.path("function").path("name").asText()));
            return out.toString();
        }

        private static String clip(String s) {
            return s.length() <= 160 ? s : s.substring(0, 160) + "…";
        }

        static void print(RunView run, PrintStream out) {
            out.println();
            out.println(printable("status: " + run.status().wire() + (run.reason() == null ? "" : " (" + run.reason() + ")")));
            if (run.output() != null) out.println(printable(run.output()));
            if (run.pending() != null) {
                out.println("waiting: " + printable(run.pending().summary()) + "; confirm with POST /v1/runs/" + run.id() + "/confirm (or /reject)");
            }
            out.printf(Locale.ROOT, "run %s: %d model call%s, %d tokens, %s%n", run.id(), run.steps(), run.steps() == 1 ? "" : "s", run.tokens(),
                    usd(run.costUsd()));
        }

        /**
         * Text from a model or a tool as the terminal gets it: without control characters other than newline and tab,
         * so a reply cannot move the cursor, retitle the window or hide what came before (ESC, CR, BEL, OSC…).
         */
        static String printable(String s) {
            StringBuilder out = new StringBuilder(s.length());
            s.codePoints().filter(c -> c == '\n' || c == '\t' || !Character.isISOControl(c)).forEach(out::appendCodePoint);
            return out.toString();
        }

        /** A cost as the CLI prints it: fixed decimals to a millionth of a dollar, never an exponent. */
        static String usd(double usd) {
            return String.format(Locale.ROOT, "$%.6f", usd);
        }
    }
}
