package dev.keel.provider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The lines of a Server-Sent Events body, read as bytes (a line ends at LF, CR or CRLF, as the SSE
 * spec says), so that a {@code data:} line's JSON goes to the parser without being decoded into a
 * String first, and a stream held open costs a small buffer rather than a Reader's. A line longer
 * than the bound is refused rather than buffered. Not thread-safe: one reader per stream; never
 * closes the stream.
 */
final class SseLines {
    /** Holds an ordinary chunk (a few hundred bytes) without growing; grows for long ones, up to the bound. */
    private static final int INITIAL_LINE_BYTES = 512, READ_BYTES = 2048;

    /** A line longer than the bound: the upstream is not speaking SSE (or means harm). */
    static final class LineTooLongException extends IOException {
        LineTooLongException(int bound) {
            super("an event stream line is longer than " + bound + " bytes");
        }
    }

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] read = new byte[READ_BYTES];
    private int readPos, readEnd;
    private byte[] line = new byte[INITIAL_LINE_BYTES];
    private int length;
    /** The previous line ended with CR: an LF that follows is part of that line's end. */
    private boolean afterCr;

    SseLines(InputStream in, int maxLineBytes) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
    }

    /** Reads the next line; false at the end of the stream (a last line without its end is still returned). */
    boolean next() throws IOException {
        length = 0;
        // After a long line, back to the small buffer: an open stream holds a long line only while it reads it.
        if (line.length > INITIAL_LINE_BYTES * 8) line = new byte[INITIAL_LINE_BYTES];
        while (true) {
            if (readPos == readEnd) {
                readEnd = in.read(read);
                readPos = 0;
                if (readEnd <= 0) {
                    readEnd = 0;
                    return length > 0;
                }
            }
            byte b = read[readPos++];
            if (afterCr) {
                afterCr = false;
                if (b == '\n') continue;
            }
            if (b == '\n' || b == '\r') {
                afterCr = b == '\r';
                return true;
            }
            if (length == line.length) {
                if (length >= maxLineBytes) throw new LineTooLongException(maxLineBytes);
                line = Arrays.copyOf(line, Math.min(maxLineBytes, 2 * length));
            }
            line[length++] = b;
        }
    }

    /** The current line's bytes, valid until the next {@link #next()}: {@code bytes()[0..length())}. */
    byte[] bytes() {
        return line;
    }

    int length() {
        return length;
    }

    /** Whether the current line starts with {@code prefix} (ASCII). */
    boolean startsWith(String prefix) {
        if (length < prefix.length()) return false;
        for (int i = 0; i < prefix.length(); i++) if (line[i] != prefix.charAt(i)) return false;
        return true;
    }
}
