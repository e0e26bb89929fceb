package dev.warta.es;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.node.WartaLocalNode;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * One real Elasticsearch node in this JVM, with HTTP on loopback.
 *
 * <p>Usage: {@code LocalNode BASE_DIR HTTP_PORT [CLUSTER_NAME]}. Data and logs live under
 * BASE_DIR; the node runs until the process gets SIGTERM/SIGINT, then closes cleanly.
 */
public final class LocalNode {

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LocalNode BASE_DIR HTTP_PORT [CLUSTER_NAME]");
            System.exit(2);
        }
        Path base = Path.of(args[0]).toAbsolutePath();
        int httpPort = Integer.parseInt(args[1]);
        String clusterName = args.length > 2 ? args[2] : "warta-local";
        Path home = base.resolve("home");
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", base.resolve("data").toString())
            .put("path.logs", base.resolve("logs").toString())
            .put("cluster.name", clusterName)
            .put("node.name", clusterName + "-1")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            // The transport port is internal (single node) but must not collide with other nodes.
            .put("transport.port", (httpPort + 100) + "-" + (httpPort + 199))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("discovery.type", "single-node")
            // A developer disk that is 90% full must not turn indices read-only mid-test.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .build();

        LogConfigurator.loadLog4jPlugins();
        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(settings);

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> clusterName + "-1");
        Node node = new WartaLocalNode(environment, List.of(Netty4Plugin.class, LanguageAnalyzersPlugin.class, RootEndpointPlugin.class));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "warta-node-shutdown"));
        node.start();
        System.out.println("warta-local-elasticsearch started: http://127.0.0.1:" + httpPort);
        stopped.await();
    }
}
