package dev.keel.guard;

import java.util.List;

/**
 * Finds PII entities and secrets in a text, with exact spans, sorted by start and not overlapping.
 * Thread-safe; never throws on any input.
 */
interface PiiDetector {
    List<PiiEntity> detect(String text);
}
