package dev.keel.ingest;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/** Token counting and slicing with the cl100k_base encoding (jtokkit). Thread-safe. */
public final class Tokens {
    /** The number of ordinary cl100k_base tokens; their ids are 0 to VOCABULARY - 1. */
    public static final int VOCABULARY = 100_256;
    private static final Encoding ENCODING = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

    private Tokens() {}

    /**
     * Longest text counted in one piece. jtokkit merges a single long word at about 100 bytes of heap per character (one
     * 3 MB word filled a 512 MB heap), so a longer text is counted in slices, cut before whitespace where there is
     * some: a cut can split a word or a run of whitespace and add a token, so a sliced count errs high by at most one
     * token per slice.
     */
    static final int SLICE = 16 * 1024;

    public static int count(String text) {
        if (text.length() <= SLICE) return ENCODING.countTokensOrdinary(text);
        int n = 0;
        for (int from = 0; from < text.length(); ) {
            int to = Math.min(text.length(), from + SLICE);
            if (to < text.length()) {
                int cut = to;
                while (cut > from + SLICE / 2 && !Character.isWhitespace(text.charAt(cut))) cut--;
                if (cut > from + SLICE / 2) to = cut;
                if (Character.isHighSurrogate(text.charAt(to - 1))) to--;
            }
            n += ENCODING.countTokensOrdinary(text.substring(from, to));
            from = to;
        }
        return n;
    }

    static IntArrayList encode(String text) {
        return ENCODING.encodeOrdinary(text);
    }

    /**
     * Decodes token ids to text; every id must be an ordinary token of the vocabulary, in
     * [0, {@value #VOCABULARY}), else an IllegalArgumentException names the first one that is not.
     */
    public static String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= VOCABULARY) throw new IllegalArgumentException("token id " + id + " is not in cl100k_base (0 to " + (VOCABULARY - 1) + ")");
            list.add(id);
        }
        return ENCODING.decode(list);
    }

    static String decode(IntArrayList tokens, int from, int to) {
        IntArrayList part = new IntArrayList(to - from);
        for (int i = from; i < to; i++) part.add(tokens.get(i));
        return ENCODING.decode(part);
    }
}
