package dev.keel.rag;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a tiny but valid cross-encoder directory — {@code model.onnx} and a word-level
 * {@code tokenizer.json} — built here byte by byte (no Python, no download): the model scores a
 * (query, document) pair as the sum of its tokens' weights over the attention mask, so a document
 * scores by how often it says the weighted words. Logits come out as [batch, 1], as real
 * cross-encoders (bge-reranker, ms-marco-MiniLM) give them.
 */
final class TinyCrossEncoder {
    private TinyCrossEncoder() {}

    /** Writes the model into {@code dir}; {@code vocabulary.get(i)} has weight {@code weights[i]} (index 0 is the unknown token). */
    static Path write(Path dir, List<String> vocabulary, float[] weights) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), model(weights));
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < vocabulary.size(); i++) vocab.append(i == 0 ? "" : ",").append('"').append(vocabulary.get(i)).append("\":").append(i);
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":{"type":"Lowercase"},
                 "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","vocab":{%s},"unk_token":"%s"}}
                """.formatted(vocab, vocabulary.get(0)));
        return dir;
    }

    /** Gather(weights, input_ids) × Cast(attention_mask) → ReduceSum over the sequence → logits [batch, 1]; opset 13. */
    private static byte[] model(float[] weights) {
        ByteBuffer w = ByteBuffer.allocate(weights.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : weights) w.putFloat(f);
        byte[] weightTensor = new Proto().ints(1, weights.length).varint(2, 1).bytes(9, w.array()).string(8, "weights").done();
        ByteBuffer a = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1);
        byte[] axesTensor = new Proto().ints(1, 1).varint(2, 7).bytes(9, a.array()).string(8, "axes").done();
        byte[] graph = new Proto()
                .bytes(1, node("Gather", List.of("weights", "input_ids"), "gathered", new Proto().string(1, "axis").varint(3, 0).varint(20, 2).done()))
                .bytes(1, node("Cast", List.of("attention_mask"), "mask", new Proto().string(1, "to").varint(3, 1).varint(20, 2).done()))
                .bytes(1, node("Mul", List.of("gathered", "mask"), "masked", null))
                .bytes(1, node("ReduceSum", List.of("masked", "axes"), "logits", null))
                .string(2, "tiny-cross-encoder")
                .bytes(5, weightTensor).bytes(5, axesTensor)
                .bytes(11, valueInfo("input_ids", 7, "batch", "sequence"))
                .bytes(11, valueInfo("attention_mask", 7, "batch", "sequence"))
                .bytes(12, valueInfo("logits", 1, "batch", null))
                .done();
        return new Proto().varint(1, 8).string(2, "keel-test").bytes(7, graph).bytes(8, new Proto().string(1, "").varint(2, 13).done()).done();
    }

    private static byte[] node(String op, List<String> inputs, String output, byte[] attribute) {
        Proto n = new Proto();
        inputs.forEach(i -> n.string(1, i));
        n.string(2, output).string(3, op.toLowerCase()).string(4, op);
        if (attribute != null) n.bytes(5, attribute);
        return n.done();
    }

    /** A tensor input/output; {@code second} null means the fixed size 1. */
    private static byte[] valueInfo(String name, int elementType, String first, String second) {
        Proto shape = new Proto().bytes(1, new Proto().string(2, first).done());
        shape.bytes(1, second == null ? new Proto().varint(1, 1).done() : new Proto().string(2, second).done());
        byte[] tensor = new Proto().varint(1, elementType).bytes(2, shape.done()).done();
        return new Proto().string(1, name).bytes(2, new Proto().bytes(1, tensor).done()).done();
    }

    /** Just enough of the protobuf wire format: varints and length-delimited fields. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            raw((long) field << 3);
            raw(value);
            return this;
        }

        Proto ints(int field, long... values) {
            for (long v : values) varint(field, v);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto bytes(int field, byte[] b) {
            raw((long) field << 3 | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        byte[] done() {
            return out.toByteArray();
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
