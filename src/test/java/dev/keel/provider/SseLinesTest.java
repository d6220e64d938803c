package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseLinesTest {
    private static List<String> lines(InputStream in, int bound) throws IOException {
        SseLines lines = new SseLines(in, bound);
        List<String> out = new ArrayList<>();
        while (lines.next()) out.add(new String(lines.bytes(), 0, lines.length(), StandardCharsets.UTF_8));
        return out;
    }

    @Test
    void linesEndAtLfCrOrCrlfAndALastLineWithoutItsEndStillCounts() throws IOException {
        String body = "data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: ünï\nlast";
        assertThat(lines(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), 1024))
                .containsExactly("data: a", "", "data: b", "", "data: c", "", "data: ünï", "last");
    }

    @Test
    void aLongLineWithinTheBoundIsReadWholeAndTheLinesAfterItStillAre() throws IOException {
        String longData = "data: " + "x".repeat(1024 * 1024);
        String body = "data: short\n" + longData + "\n\ndata: after\n";
        assertThat(lines(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), 4 * 1024 * 1024))
                .containsExactly("data: short", longData, "", "data: after");
    }

    @Test
    void aCrlfSplitAcrossReadsIsOneLineEnd() throws IOException {
        byte[] body = "data: a\r\ndata: b\r\n".getBytes(StandardCharsets.UTF_8);
        InputStream oneByteAtATime = new ByteArrayInputStream(body) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(1, len));
            }
        };
        assertThat(lines(oneByteAtATime, 1024)).containsExactly("data: a", "data: b");
    }

    @Test
    void aLineLongerThanTheBoundIsRefusedBeforeItIsBuffered() {
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 'x';
            }
        };
        assertThatThrownBy(() -> lines(endless, 4096)).isInstanceOf(SseLines.LineTooLongException.class);
    }
}
