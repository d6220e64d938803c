package dev.keel.guard;

import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The exemplar layer: a curated set of known attacks ({@code guard/injection-exemplars.tsv}, plus the
 * file named by {@code guard.input.exemplars}), each with its category, and the similarity of a text's
 * embedding to the nearest of them. Exemplars are embedded once, on first use, so a guard that never
 * needs this layer never pays for it. Thread-safe.
 */
final class AttackExemplars {
    static final String RESOURCE = "/guard/injection-exemplars.tsv";
    /** Characters of one exemplar line; longer lines are a mistake in the file, not an exemplar. */
    static final int MAX_EXEMPLAR_CHARS = 4_000;

    /** One exemplar: its category and text. */
    record Exemplar(String category, String text) {}

    /** The nearest exemplar's category and its cosine similarity to the text. */
    record Nearest(String category, double similarity) {
        static final Nearest NONE = new Nearest("none", 0);
    }

    private final List<Exemplar> exemplars;
    private final Embedder embedder;
    private volatile List<float[]> vectors;

    AttackExemplars(List<Exemplar> exemplars, Embedder embedder) {
        this.exemplars = List.copyOf(exemplars);
        this.embedder = embedder;
    }

    /** The shipped exemplars. */
    static List<Exemplar> shipped() {
        try (InputStream in = AttackExemplars.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList(), RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The exemplars of a user's file, same format as the shipped one. */
    static List<Exemplar> read(Path file) {
        try {
            return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read exemplars " + file + ": " + e.getMessage(), e);
        }
    }

    static List<Exemplar> parse(List<String> lines, String origin) {
        List<Exemplar> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int tab = line.indexOf('\t');
            if (tab <= 0 || tab == line.length() - 1) {
                throw new IllegalArgumentException(origin + " line " + (i + 1) + ": expected a category and a text separated by a tab");
            }
            if (line.length() > MAX_EXEMPLAR_CHARS) {
                throw new IllegalArgumentException(origin + " line " + (i + 1) + ": longer than " + MAX_EXEMPLAR_CHARS + " characters");
            }
            out.add(new Exemplar(line.substring(0, tab).strip(), InputNormalizer.normalize(line.substring(tab + 1).strip())));
        }
        return out;
    }

    List<Exemplar> exemplars() {
        return exemplars;
    }

    /** The exemplar nearest to a text's vector (from the same embedder). */
    Nearest nearest(float[] vector) {
        List<float[]> vs = vectors();
        Nearest best = Nearest.NONE;
        for (int i = 0; i < vs.size(); i++) {
            double s = Vectors.dot(vs.get(i), vector);
            if (s > best.similarity()) best = new Nearest(exemplars.get(i).category(), s);
        }
        return best;
    }

    /** Embeds the exemplars now rather than at the first {@link #nearest}. */
    void prepare() {
        vectors();
    }

    private List<float[]> vectors() {
        List<float[]> v = vectors;
        if (v == null) {
            synchronized (this) {
                v = vectors;
                if (v == null) vectors = v = exemplars.isEmpty() ? List.of() : List.copyOf(embedder.embedDocuments(exemplars.stream().map(Exemplar::text).toList()));
            }
        }
        return v;
    }
}
