package dev.keel.rag;

/**
 * A cache key for text-derived values (query and sentence vectors): the text together with the
 * tenant that asked, so whether one tenant's lookup hits — its latency, its trace — never depends
 * on what another tenant asked.
 */
record TenantText(String tenant, String text) {}
