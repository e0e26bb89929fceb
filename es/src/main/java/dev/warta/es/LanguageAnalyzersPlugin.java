package dev.warta.es;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.id.IndonesianAnalyzer;
import org.apache.lucene.analysis.id.IndonesianStemFilter;
import org.apache.lucene.analysis.miscellaneous.StemmerOverrideFilter;
import org.apache.lucene.analysis.miscellaneous.StemmerOverrideFilter.StemmerOverrideMap;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.AnalyzerScope;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.PreConfiguredTokenizer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Registers the {@code indonesian} and {@code english} analyzers under the names Elasticsearch's
 * analysis-common module gives them, built from the same Lucene classes with the same options
 * ({@code stopwords}, {@code stem_exclusion}), and the two token filters Warta's own Indonesian
 * analyzer is built from: {@code stemmer_override} (inline {@code rules}, {@code "a, b => c"}) and
 * {@code stemmer} ({@code language: indonesian} only). That module is not published to Maven Central,
 * so the local node brings this small equivalent instead: on the classpath of the 9.x node, and as
 * a plugin in the 8.x distribution (es/analysis-plugin/).
 */
public final class LanguageAnalyzersPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of(
            "indonesian",
            (indexSettings, env, name, settings) -> new Provider<>(name,
                new IndonesianAnalyzer(
                    Analysis.parseStopWords(env, settings, IndonesianAnalyzer.getDefaultStopSet()),
                    Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET))),
            "english",
            (indexSettings, env, name, settings) -> new Provider<>(name,
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
            }),
            "pattern_capture",
            AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
                Pattern[] patterns = settings.getAsList("patterns").stream().map(Pattern::compile).toArray(Pattern[]::new);
                boolean preserveOriginal = settings.getAsBoolean("preserve_original", true);
                return filter(name, stream -> new PatternCaptureGroupTokenFilter(stream, preserveOriginal, patterns));
            }));
    }

    // The security module's own index (.security, for API keys and native users) analyses e-mail
    // addresses with these three (its "email" analyzer), so a secured 8.x node needs them.
    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(PreConfiguredTokenFilter.singleton("unique", false, UniqueTokenFilter::new));
    }

    @Override
    public List<PreConfiguredTokenizer> getPreConfiguredTokenizers() {
        return List.of(PreConfiguredTokenizer.singleton("uax_url_email", UAX29URLEmailTokenizer::new));
    }

    /** analysis-common's {@code unique}: drops a token whose text came before in the stream. */
    private static final class UniqueTokenFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final CharArraySet seen = new CharArraySet(8, false);

        UniqueTokenFilter(TokenStream input) {
            super(input);
        }

        @Override
        public boolean incrementToken() throws IOException {
            while (input.incrementToken()) {
                if (!seen.contains(term.buffer(), 0, term.length())) {
                    seen.add(java.util.Arrays.copyOf(term.buffer(), term.length()));
                    return true;
                }
            }
            return false;
        }

        @Override
        public void reset() throws IOException {
            super.reset();
            seen.clear();
        }
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

    // The AnalyzerProvider interface directly: its abstract base class changed constructors between
    // 8.x and 9.x, and this class is built against both (es/analysis-plugin/ for 8.x distributions).
    private record Provider<A extends Analyzer>(String name, A analyzer) implements AnalyzerProvider<A> {
        @Override
        public AnalyzerScope scope() {
            return AnalyzerScope.INDEX;
        }

        @Override
        public A get() {
            return analyzer;
        }
    }
}
