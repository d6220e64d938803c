package dev.keel.config;

import java.util.List;

/**
 * Which chunk index serves search: the embedded Lucene index in the data directory ({@code lucene},
 * the default) or a SolrCloud cluster ({@code solr}) reached at {@code solrUrls} (any node; Keel
 * tries them in turn), with Keel's collections named from {@code collectionPrefix}.
 */
public record IndexConfig(Kind kind, List<String> solrUrls, String collectionPrefix) {
    /** The index implementation. */
    public enum Kind { LUCENE, SOLR }

    public static final IndexConfig DEFAULTS = new IndexConfig(Kind.LUCENE, List.of(), "keel");

    public IndexConfig {
        solrUrls = List.copyOf(solrUrls);
    }

    static IndexConfig read(ConfigNode n) {
        Kind kind = n.enumValue("kind", Kind.class, DEFAULTS.kind);
        ConfigNode solr = n.child("solr");
        List<String> urls = solr.strings("urls");
        if (kind == Kind.SOLR && urls.isEmpty()) throw new ConfigException(solr.path("urls"), "index.kind solr needs at least one Solr URL");
        return new IndexConfig(kind, urls, solr.string("collection_prefix", DEFAULTS.collectionPrefix));
    }
}
