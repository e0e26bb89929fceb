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
 * One real Elasticsearch node in this JVM.
 *
 * <p>Usage: {@code LocalNode BASE_DIR [-Ekey=value ...]}. Home, data and logs live under BASE_DIR;
 * every other setting (cluster and node name, ports, discovery) comes as {@code -E}, as it would
 * for {@code bin/elasticsearch}: pipeline/es_local.py builds the same list for both. The node
 * runs until the process gets SIGTERM/SIGINT, then closes cleanly.
 */
public final class LocalNode {

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LocalNode BASE_DIR [-Ekey=value ...]");
            System.exit(2);
        }
        Path base = Path.of(args[0]).toAbsolutePath();
        Path home = base.resolve("home");
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));

        Settings.Builder builder = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", base.resolve("data").toString())
            .put("path.logs", base.resolve("logs").toString())
            .put("http.type", "netty4")
            .put("transport.type", "netty4");
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            if (!arg.startsWith("-E") || eq < 3) {
                System.err.println("not a -Ekey=value setting: " + arg);
                System.exit(2);
            }
            builder.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        String nodeName = settings.get("node.name", "warta-local-1");

        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(settings);

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> nodeName);
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
        System.out.println("warta-local-elasticsearch started: " + nodeName);
        stopped.await();
    }
}
