import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * A SolrCloud for Keel's tests: {@code NODES} Solr nodes (default 2) on free ports with an embedded
 * ZooKeeper, all under the directory given as the only argument. Prints one line
 * {@code SOLR_NODES url,url} once every node is live (and {@code SOLR_FAILED message} if it cannot
 * start), then runs until its standard input ends (the test closed it, or died), and shuts the
 * nodes and ZooKeeper down before exiting. A line {@code stop N} on its input stops node N (0-based,
 * in the order printed) and is answered {@code SOLR_STOPPED N}. Run by {@code dev.keel.engines.SolrCloud} with Java's source launcher (no build step).
 */
public final class SolrNode {
    private static final int NODES = Integer.getInteger("keel.solr.nodes", 2);

    public static void main(String[] args) throws Exception {
        MiniSolrCloudCluster cluster;
        try {
            cluster = new MiniSolrCloudCluster(NODES, Path.of(args[0]), JettyConfig.builder().build());
        } catch (Exception e) {
            System.out.println("SOLR_FAILED " + e);
            System.out.flush();
            System.exit(1);
            return;
        }
        try {
            String urls = cluster.getJettySolrRunners().stream().map(JettySolrRunner::getBaseUrl).map(Object::toString)
                    .collect(Collectors.joining(","));
            System.out.println("SOLR_NODES " + urls);
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("stop ")) {
                    int node = Integer.parseInt(line.substring(5).strip());
                    cluster.stopJettySolrRunner(node);
                    System.out.println("SOLR_STOPPED " + node);
                    System.out.flush();
                }
            }
        } finally {
            cluster.shutdown();
        }
        System.exit(0);
    }
}
