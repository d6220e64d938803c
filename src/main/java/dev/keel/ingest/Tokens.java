package dev.keel.ingest;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/** Token counting and slicing with the cl100k_base encoding (jtokkit). Thread-safe. */
public final class Tokens {
    private static final Encoding ENCODING = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

    private Tokens() {}

    public static int count(String text) {
        return ENCODING.countTokensOrdinary(text);
    }

    static IntArrayList encode(String text) {
        return ENCODING.encodeOrdinary(text);
    }

    static String decode(IntArrayList tokens, int from, int to) {
        IntArrayList part = new IntArrayList(to - from);
        for (int i = from; i < to; i++) part.add(tokens.get(i));
        return ENCODING.decode(part);
    }
}
