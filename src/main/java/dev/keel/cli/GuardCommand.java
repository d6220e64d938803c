package dev.keel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code keel guard …}: the guardrails from the command line; each subcommand is a class of its own. */
@Command(name = "guard", mixinStandardHelpOptions = true, description = "Guardrails: scan texts for prompt injection and PII.",
        subcommands = {GuardScanCommand.class, CommandLine.HelpCommand.class})
final class GuardCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
