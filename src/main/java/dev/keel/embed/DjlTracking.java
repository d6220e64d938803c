package dev.keel.embed;

/**
 * Keeps DJL, which loads the tokenizers of the in-process models, from reporting where Keel runs: unless told
 * otherwise it asks the cloud instance-metadata address (169.254.169.254) for the machine's identity whenever a
 * tokenizer is created, to send to its developers ("usage tracking"). Keel works offline and calls out only where
 * its configuration says, so every class that creates a DJL tokenizer calls {@link #optOut()} first.
 */
public final class DjlTracking {
    /** The switch DJL reads, as an environment variable or a system property, before it calls out. */
    static final String OPT_OUT = "OPT_OUT_TRACKING";

    private DjlTracking() {}

    /** Turns DJL's usage tracking off for this process. Idempotent and thread-safe. */
    public static void optOut() {
        System.setProperty(OPT_OUT, "true");
    }
}
