package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A streamed reply is redacted exactly as the same reply is when it is not streamed, however the
 * model splits it: secrets that need their label, and entities longer than the stream's window,
 * never reach the client (the guard's real detectors).
 */
class StreamedSecretsTest {
    private static final Guard GUARD = new Guard(GuardConfig.DEFAULTS, text -> InjectionDetector.Assessment.NONE,
            PiiScanner.of(GuardConfig.DEFAULTS.phoneRegions()));
    private static final String JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
            + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    private static final String PEM_BODY = "MIIEowIBAAKCAQEA7bq9fQm2k5xG8cVJrT0aPq1Lw3sNdYhUe4ZiKoB6nMfRgXtC\n"
            + "p2Wv9HjLs8QyTr5aDkE1uNcO3bFiMg7VhXz0lPqYeRtUw4sKdJn6aBcGmHfZo2Qx\n"
            + "Lr8TnVy1eKp3WqSd5uGhJb0MzXf7CiNoA2vEl9RtYsUg6wDkPq4HmFa1ZcBxOj3n\n";

    static Stream<Arguments> secrets() {
        return Stream.of(
                Arguments.of("The login is pwd: CorrectHorseBatteryStaple9 for now.", "CorrectHorseBatteryStaple9"),
                Arguments.of("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Ha4Lm2s then", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Ha4Lm2s"),
                Arguments.of("Send Authorization: Bearer abcdefghijklmnop1234567890ABCD with it.", "abcdefghijklmnop1234567890ABCD"),
                Arguments.of("Use the token " + JWT + " to call it.", JWT.substring(40)),
                Arguments.of("Here:\n-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "-----END RSA PRIVATE KEY-----\nKeep it safe.", "p2Wv9HjLs8Qy"),
                Arguments.of("Connect to postgres://admin:S3cr3tPassw0rdThatIsLongerThanTheWindowOfTheStream2024xyz@db.internal.example.com:5432/app now",
                        "S3cr3tPassw0rd"),
                Arguments.of("Her SSN: 536-22-8142 is on file.", "536-22-8142"),
                Arguments.of("Her SSN: 536228142 is on file.", "536228142"));
    }

    @ParameterizedTest
    @MethodSource("secrets")
    void theStreamRedactsAsTheWholeTextIsRedactedWhateverTheChunkSize(String reply, String secret) {
        GuardResult whole = GUARD.checkOutput(reply, new Redaction(), value -> false);
        assertThat(whole.verdict()).isInstanceOf(GuardVerdict.Redact.class);
        String expected = ((GuardVerdict.Redact) whole.verdict()).text();
        assertThat(expected).doesNotContain(secret);
        Random random = new Random(reply.length());
        for (int size = 1; size <= 5; size++) {
            List<String> pieces = streamed(reply, size, random);
            assertThat(String.join("", pieces)).as("chunks of up to %d characters", size).isEqualTo(expected);
        }
    }

    /** The reply in chunks of 1 to {@code maxChunk} characters through a checking stream guard; what the client saw, piece by piece. */
    private static List<String> streamed(String reply, int maxChunk, Random random) {
        StreamGuard window = new StreamGuard(GUARD, new Redaction(), value -> false, true);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < reply.length(); ) {
            int end = Math.min(reply.length(), i + 1 + random.nextInt(maxChunk));
            pieces.add(window.accept(reply.substring(i, end)));
            i = end;
        }
        pieces.add(window.finish());
        return pieces;
    }
}
