package dev.warta.es;

import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.id.IndonesianAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Registers the {@code indonesian} and {@code english} analyzers under the names Elasticsearch's
 * analysis-common module gives them, built from the same Lucene classes with the same options
 * ({@code stopwords}, {@code stem_exclusion}). That module is not published to Maven Central for
 * 8.x, so the local node brings this small equivalent instead.
 */
public final class LanguageAnalyzersPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of(
            "indonesian",
            (indexSettings, env, name, settings) -> new Provider<>(name, settings,
                new IndonesianAnalyzer(
                    Analysis.parseStopWords(env, settings, IndonesianAnalyzer.getDefaultStopSet()),
                    Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET))),
            "english",
            (indexSettings, env, name, settings) -> new Provider<>(name, settings,
                new EnglishAnalyzer(
                    Analysis.parseStopWords(env, settings, EnglishAnalyzer.getDefaultStopSet()),
                    Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET))));
    }

    private static final class Provider<A extends Analyzer> extends AbstractIndexAnalyzerProvider<A> {
        private final A analyzer;

        Provider(String name, Settings settings, A analyzer) {
            super(name, settings);
            this.analyzer = analyzer;
        }

        @Override
        public A get() {
            return analyzer;
        }
    }
}
