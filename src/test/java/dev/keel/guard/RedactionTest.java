package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RedactionTest {
    @Test
    void theSameValueGetsTheSamePlaceholderAcrossTextsAndTheReplyGetsTheOriginalsBack() {
        Redaction redaction = new Redaction();
        String first = "mail ann@example.com or bob@example.org";
        String a = redaction.redact(first, List.of(new PiiEntity("EMAIL_ADDRESS", 5, 20), new PiiEntity("EMAIL_ADDRESS", 24, 39)));
        String b = redaction.redact("again ann@example.com", List.of(new PiiEntity("EMAIL_ADDRESS", 6, 21)));

        assertThat(a).isEqualTo("mail <EMAIL_1> or <EMAIL_2>");
        assertThat(b).isEqualTo("again <EMAIL_1>");
        assertThat(redaction.restore("I wrote to <EMAIL_2> and <EMAIL_1>.")).isEqualTo("I wrote to bob@example.org and ann@example.com.");
    }

    @Test
    void aPlaceholderTheRequestNeverHandedOutStaysAsItIs() {
        Redaction redaction = new Redaction();
        redaction.redact("ann@example.com", List.of(new PiiEntity("EMAIL_ADDRESS", 0, 15)));

        assertThat(redaction.restore("<EMAIL_7> <PHONE_1>")).isEqualTo("<EMAIL_7> <PHONE_1>");
    }
}
