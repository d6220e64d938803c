package dev.keel.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which chunk index serves search: the embedded Lucene index in the data directory ({@code lucene},
 * the default) or a SolrCloud cluster ({@code solr}) reached at {@code solrUrls} (any node; Keel
 * tries them in turn; a URL may carry {@code user:password@}, sent as basic authentication and
 * never shown), with Keel's collections named from {@code collectionPrefix} (one per tenant), each
 * of one shard with {@code replicas} copies, and every call to Solr bounded by {@code timeoutMs}.
 */
public record IndexConfig(Kind kind, List<String> solrUrls, String collectionPrefix, int replicas, int timeoutMs) {
    /** The index implementation. */
    public enum Kind { LUCENE, SOLR }

    /** Copies of each tenant's shard: two survive the loss of one Solr node. */
    private static final int DEFAULT_REPLICAS = 2;
    /** Long enough for a commit that opens a new searcher on a loaded node; a dead node is given up on well before a client's patience. */
    private static final int DEFAULT_TIMEOUT_MS = 10_000;
    /** What Solr accepts in a collection name, leaving room for the tenant's part Keel appends. */
    private static final Pattern PREFIX = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]{0,47}");

    public static final IndexConfig DEFAULTS = new IndexConfig(Kind.LUCENE, List.of(), "keel", DEFAULT_REPLICAS, DEFAULT_TIMEOUT_MS);

    public IndexConfig {
        solrUrls = List.copyOf(solrUrls);
    }

    /** These settings with another collection prefix (a throw-away evaluation's). */
    public IndexConfig withCollectionPrefix(String prefix) {
        return new IndexConfig(kind, solrUrls, prefix, replicas, timeoutMs);
    }

    static IndexConfig read(ConfigNode n) {
        Kind kind = n.enumValue("kind", Kind.class, DEFAULTS.kind);
        ConfigNode solr = n.child("solr");
        List<String> urls = solr.strings("urls");
        if (kind == Kind.SOLR && urls.isEmpty()) throw new ConfigException(solr.path("urls"), "index.kind solr needs at least one Solr URL");
        for (String url : urls) {
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new ConfigException(solr.path("urls"), "expected http:// or https:// URLs of Solr nodes (e.g. http://solr1:8983/solr)");
            }
        }
        String prefix = solr.string("collection_prefix", DEFAULTS.collectionPrefix);
        if (!PREFIX.matcher(prefix).matches()) {
            throw new ConfigException(solr.path("collection_prefix"), "expected letters, digits, '_' or '-' (at most 48, not starting with '_' or '-'), got '"
                    + prefix + "'");
        }
        return new IndexConfig(kind, urls, prefix, solr.integer("replicas", DEFAULTS.replicas, 1, 16),
                solr.integer("timeout_ms", DEFAULTS.timeoutMs, 100, 600_000));
    }
}
