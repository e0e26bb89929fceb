package dev.warta.es;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.id.IndonesianAnalyzer;
import org.apache.lucene.analysis.id.IndonesianStemFilter;
import org.apache.lucene.analysis.miscellaneous.StemmerOverrideFilter;
import org.apache.lucene.analysis.miscellaneous.StemmerOverrideFilter.StemmerOverrideMap;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Registers the {@code indonesian} and {@code english} analyzers under the names Elasticsearch's
 * analysis-common module gives them, built from the same Lucene classes with the same options
 * ({@code stopwords}, {@code stem_exclusion}), and the two token filters Warta's own Indonesian
 * analyzer is built from: {@code stemmer_override} (inline {@code rules}, {@code "a, b => c"}) and
 * {@code stemmer} ({@code language: indonesian} only). That module is not published to Maven Central
 * for 8.x, so the local node brings this small equivalent instead.
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

    // Built only where an index's settings name them (as analysis-common does): a filter without
    // its settings (rules, language) means nothing.
    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "stemmer_override",
            AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
                StemmerOverrideMap map = overrides(settings.getAsList("rules"));
                return filter(name, stream -> new StemmerOverrideFilter(stream, map));
            }),
            "stemmer",
            AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
                String language = settings.get("language", settings.get("name", ""));
                if (!"indonesian".equals(language)) {
                    throw new IllegalArgumentException(
                        "the local node's stemmer filter knows language [indonesian] only, not [" + language + "]");
                }
                return filter(name, IndonesianStemFilter::new);
            }));
    }

    /** Rules as analysis-common reads them: {@code "form => stem"} or {@code "a, b => stem"}. */
    private static StemmerOverrideMap overrides(List<String> rules) {
        StemmerOverrideFilter.Builder builder = new StemmerOverrideFilter.Builder(false);
        for (String rule : rules) {
            String[] sides = rule.split("=>");
            if (sides.length != 2 || sides[1].trim().isEmpty()) {
                throw new IllegalArgumentException("Invalid keyword override rule: " + rule);
            }
            for (String form : sides[0].split(",")) {
                if (!form.trim().isEmpty()) {
                    builder.add(form.trim(), sides[1].trim());
                }
            }
        }
        try {
            return builder.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TokenFilterFactory filter(String name, java.util.function.UnaryOperator<TokenStream> create) {
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream stream) {
                return create.apply(stream);
            }
        };
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
