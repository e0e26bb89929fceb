package org.elasticsearch.node;

import java.util.Collection;

import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;


/**
 * A regular {@link Node} whose plugins come from the classpath instead of a distribution's
 * modules/ and plugins/ folders. It lives in this package because the hook for that,
 * {@code NodeServiceProvider#newPluginService}, is package-private. (The test framework's
 * MockNode is not used: its bootstrap refuses to run as root and it brings randomizedtesting.)
 */
public final class WartaLocalNode extends Node {

    public WartaLocalNode(Environment environment, Collection<Class<? extends Plugin>> classpathPlugins) {
        super(NodeConstruction.prepareConstruction(environment, ClasspathPluginsService.emptyLoader(), new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader loader) {
                return new ClasspathPluginsService(env.settings(), env, loader, classpathPlugins);
            }
        }, true));
    }
}
