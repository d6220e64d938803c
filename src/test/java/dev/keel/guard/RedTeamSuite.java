package dev.keel.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The red-team suite under {@code src/test/resources/guard/redteam/}: attacks (label 1, with technique,
 * persona and language), benign prompts (label 0, with a kind) and PII cases (with exact entity
 * spans in UTF-16 units, end exclusive). {@link RedTeamSuiteGenerator} writes the files; this class
 * only reads them.
 */
final class RedTeamSuite {
    static final Path DIR = Path.of("src", "test", "resources", "guard", "redteam").toAbsolutePath();
    static final Path ATTACKS = DIR.resolve("attacks.jsonl");
    static final Path BENIGN = DIR.resolve("benign.jsonl");
    static final Path PII = DIR.resolve("pii.jsonl");
    static final ObjectMapper JSON = new ObjectMapper();

    record Attack(String id, String text, int label, String technique, String persona, String lang) {}

    record Benign(String id, String text, int label, String kind) {}

    record Entity(String type, int start, int end) {}

    record PiiCase(String id, String text, List<Entity> entities) {}

    private RedTeamSuite() {}

    static List<Attack> attacks() {
        return lines(ATTACKS).stream().map(n -> new Attack(n.get("id").asText(), n.get("text").asText(), n.get("label").asInt(),
                n.get("technique").asText(), n.get("persona").asText(), n.get("lang").asText())).toList();
    }

    static List<Benign> benign() {
        return lines(BENIGN).stream().map(n -> new Benign(n.get("id").asText(), n.get("text").asText(), n.get("label").asInt(),
                n.get("kind").asText())).toList();
    }

    static List<PiiCase> pii() {
        return lines(PII).stream().map(n -> {
            List<Entity> entities = new ArrayList<>();
            n.get("entities").forEach(e -> entities.add(new Entity(e.get("type").asText(), e.get("start").asInt(), e.get("end").asInt())));
            return new PiiCase(n.get("id").asText(), n.get("text").asText(), List.copyOf(entities));
        }).toList();
    }

    /** Every line of a JSONL file as JSON; a line that does not parse fails loudly with its number. */
    static List<JsonNode> lines(Path file) {
        try {
            List<String> raw = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<JsonNode> out = new ArrayList<>(raw.size());
            for (int i = 0; i < raw.size(); i++) {
                if (raw.get(i).isBlank()) continue;
                try {
                    out.add(JSON.readTree(raw.get(i)));
                } catch (IOException e) {
                    throw new IllegalStateException(file.getFileName() + " line " + (i + 1) + " is not JSON: " + e.getMessage(), e);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
