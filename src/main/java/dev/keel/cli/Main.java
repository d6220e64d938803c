package dev.keel.cli;

import dev.keel.config.ConfigException;
import dev.keel.index.IndexException;
import dev.keel.store.StoreException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code keel}: the command line. Each subcommand builds what it needs and closes it on exit. */
@Command(name = "keel", mixinStandardHelpOptions = true, version = "keel 0.1.0",
        description = "Self-hosted AI application server: grounded answers over your documents, offline by default.",
        subcommands = {DemoCommand.class, ServeCommand.class, IngestCommand.class, AskCommand.class, SearchCommand.class,
                EvalCommand.class, AgentCommand.class, BenchCommand.class, GuardCommand.class, MigrateCommand.class, ReindexCommand.class, McpCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Lucene logs through java.util.logging; its start-up notices are not for users. Held so the level sticks. */
    private static final java.util.logging.Logger LUCENE_LOG = java.util.logging.Logger.getLogger("org.apache.lucene");

    static {
        LUCENE_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            String message = switch (e) {
                case ConfigException c -> "invalid configuration: " + c.getMessage();
                case IndexException i -> i.getMessage();
                case StoreException s -> s.getMessage();
                case IllegalArgumentException i -> i.getMessage();
                case dev.keel.eval.Judge.JudgeException j -> j.getMessage();
                default -> null;
            };
            if (message == null) throw e;
            cmd.getErr().println("keel: " + message);
            return 2;
        });
        return cli.execute(args);
    }
}
