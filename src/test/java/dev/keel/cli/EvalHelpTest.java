package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code keel eval * --help} as a user reads it. */
class EvalHelpTest {
    @Test
    void everyEvalCommandPrintsItsHelpWithoutAPicocliWarning() {
        for (String name : new CommandLine(new EvalCommand()).getSubcommands().keySet()) {
            CliTest.Run r = CliTest.run("eval", name, "--help");
            assertThat(r.code()).as(name).isZero();
            assertThat(r.out()).as(name).contains("Usage: keel eval " + name);
            assertThat(r.err()).as(name).doesNotContain("picocli WARN");
            assertThat(r.out()).as(name).doesNotContain("picocli WARN");
        }
    }
}
