package org.elasticsearch.plugins;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.elasticsearch.Version;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;

/**
 * Plugins given as classes on the classpath (an embedded node has no plugins/ or modules/
 * folders to scan). Lives in this package because {@link PluginsService.LoadedPlugin} and
 * {@code loadPlugin} are package-private.
 */
public final class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> loaded;
    private final PluginsAndModules info;

    public ClasspathPluginsService(Settings settings, Environment env, PluginsLoader loader,
                                   Collection<Class<? extends Plugin>> pluginClasses) {
        super(settings, env.configDir(), loader);
        List<LoadedPlugin> plugins = new ArrayList<>(super.plugins());
        List<PluginRuntimeInfo> infos = new ArrayList<>(super.info().getPluginInfos());
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getName(), "classpath plugin", "NA", Version.CURRENT.toString(),
                Integer.toString(Runtime.version().feature()), pluginClass.getName(), null,
                List.of(), false, false, false, false, PluginDescriptor.DeploymentTarget.ALL);
            plugins.add(new LoadedPlugin(descriptor, loadPlugin(pluginClass, settings, env.configDir()), pluginClass.getClassLoader()));
            infos.add(new PluginRuntimeInfo(descriptor));
        }
        this.loaded = List.copyOf(plugins);
        this.info = new PluginsAndModules(infos, super.info().getModuleInfos());
    }

    /**
     * A loader with no module or plugin bundles (there are no folders to load them from). Built
     * directly: the public factory adds the server module's qualified exports, and on the
     * classpath the server is an unnamed module with none.
     */
    public static PluginsLoader emptyLoader() {
        return new PluginsLoader(Set.of(), Set.of(), Map.of());
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return loaded;
    }

    @Override
    public PluginsAndModules info() {
        return info;
    }
}
