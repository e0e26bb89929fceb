"""Enrich: tag people, organisations and places, and give each mention a canonical name.

The model is Warta's own spaCy pipeline, trained from the corpora in ``../shared/data/ner``
(see ``pipeline/models/ner/MODEL_CARD.md``). It is loaded once per process.

Canonical names: places take CLDR's English name whatever the language (``AS``, ``Amerika
Serikat`` -> ``United States``; see ``pipeline/gazetteer.py``); within one article a later short
form of a person (``Putin``) joins the earlier full name (``Vladimir Putin``), and an organisation
the article abbreviates (``Komisi Pemberantasan Korupsi (KPK)``) takes its abbreviation; see
``canonicalise`` for the rest (nicknames, surnames, web addresses, ``Partai``, ``DPR RI``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from pipeline.gazetteer import canonical_place, is_demonym, is_place
from pipeline.records import Article, Entity, TaggedArticle

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

LABELS: frozenset[str] = frozenset({"PER", "ORG", "LOC"})
MODELS_DIR = Path(__file__).resolve().parent / "models"
COMMON_WORD_LANGUAGES = ("id", "en")  # languages with a common-word list in MODELS_DIR
_SPACE = re.compile(r"\s+")
_QUOTES = "\"'\u201c\u201d\u2018\u2019"  # straight and curly, opening and closing
_EDGE_PUNCT = _QUOTES + "\u00ab\u00bb()[]{},.;:!?"  # quotes, guillemets, brackets
# A mention without the punctuation and whitespace at its edges (a model span can end in a
# line break: ``Darah Tinggi\n``).
_MENTION_CORE = re.compile(rf"[^\s{re.escape(_EDGE_PUNCT)}](?:.*[^\s{re.escape(_EDGE_PUNCT)}])?", re.DOTALL)
# A short name in brackets: an organisation's abbreviation (``(KPK)``, ``(PDI-P)``, ``(UKP4)``) or a
# person's nickname (``Joko Widodo (Jokowi)``); no dots, which mark stock codes
# (``Facebook Inc (FB.O)``), not names.
_BRACKETED_ABBREVIATION = re.compile(r"\s*\(\s*([A-Z][A-Za-z0-9&\-]{1,9})\s*\)")


@lru_cache(maxsize=2)
def load_model(path: Path) -> Language:
    """The spaCy pipeline at ``path``, loaded once per process and path."""
    import spacy
    from spacy.util import load_config, registry
    from thinc.api import NumpyOps

    if not (path / "meta.json").exists():
        raise FileNotFoundError(f"no NER model at {path}; rebuild it with `warta train ner`")
    # spaCy builds the language's default tokenizer, replaces it with the saved one, and every
    # later change to a rule reloads all 16k special cases (about 2 s each time): three loads,
    # most of a 6-8 s model load, paid by every per-batch task. Build the saved one once, here.
    registry.tokenizers.register(_NO_TOKENIZER, func=_no_tokenizer)
    nlp = spacy.load(
        path, exclude=["tokenizer"], config={"nlp": {"tokenizer": {"@tokenizers": _NO_TOKENIZER}}}
    )
    nlp.tokenizer = _saved_tokenizer(nlp.vocab, path / "tokenizer")
    nlp.config["nlp"]["tokenizer"] = load_config(path / "config.cfg")["nlp"]["tokenizer"]  # as saved
    # Thinc multiplies matrices with its bundled BLIS by default; numpy's OpenBLAS does the
    # tagger's shapes about 3x faster here (same entities; benchmarks/ner_throughput.py).
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)  # rule-based components have none
        for layer in model.walk() if model is not None else ():
            layer.ops = ops
    return nlp


_NO_TOKENIZER = "warta.no_tokenizer.v1"


def _no_tokenizer() -> Callable[[Language], Tokenizer]:
    """A tokenizer without rules, which ``load_model`` replaces at once (spaCy's ``@tokenizers``)."""
    from spacy.tokenizer import Tokenizer

    return lambda nlp: Tokenizer(nlp.vocab)


def _saved_tokenizer(vocab: Vocab, path: Path) -> Tokenizer:
    """The tokenizer spaCy saved at ``path``, its special cases loaded once, with anchored prefixes."""
    import srsly
    from spacy.tokenizer import Tokenizer

    saved = srsly.msgpack_loads(path.read_bytes())

    def regex(key: str) -> re.Pattern[str] | None:  # compiled as spaCy's ``Tokenizer.from_bytes`` does
        pattern = saved.get(key)
        return re.compile(pattern) if isinstance(pattern, str) else None

    def compiled(key: str, method: str) -> Callable[..., Any] | None:
        found = regex(key)
        return getattr(found, method) if found is not None else None

    prefixes = regex("prefix_search")
    anchored = _AnchoredPrefix.of(prefixes) if prefixes is not None else None
    # Every rule goes in before the special cases, which are tokenised by them as they load.
    return Tokenizer(
        vocab,
        rules=saved.get("exceptions"),
        prefix_search=anchored.search if anchored is not None else compiled("prefix_search", "search"),
        suffix_search=compiled("suffix_search", "search"),
        infix_finditer=compiled("infix_finditer", "finditer"),
        token_match=compiled("token_match", "match"),
        url_match=compiled("url_match", "match"),
        faster_heuristics=saved.get("faster_heuristics", True),
    )


class _AnchoredPrefix:
    """spaCy's prefix rules as ``match`` instead of ``search``, with the same results.

    spaCy joins its prefix rules as ``^a|^b|...`` and calls ``search``, which retries every rule
    at every position of every word (about 40% of the tokenizer's time here); all but rules
    that start with a literal are anchored, so ``match`` finds the same match unless the word
    contains one of those literals (Indonesian's ``<a([^>]+)>``), when ``search`` still runs.
    ``pattern`` keeps the rules' text, which spaCy reads when it serialises the tokenizer.
    """

    def __init__(self, regex: re.Pattern[str], unanchored_literals: tuple[str, ...]) -> None:
        self.regex = regex
        self.pattern = regex.pattern
        self.unanchored_literals = unanchored_literals

    @classmethod
    def of(cls, regex: re.Pattern[str]) -> _AnchoredPrefix | None:
        """None when the rules are not of that shape (then spaCy's ``search`` stays)."""
        try:  # the regex's own parse says exactly what is anchored; private, so optional
            import re._parser as sre_parse
        except ImportError:
            return None
        if regex.flags & (re.MULTILINE | re.IGNORECASE):
            return None
        tree = sre_parse.parse(regex.pattern, regex.flags)
        if len(tree) and tree[0] == (sre_parse.AT, sre_parse.AT_BEGINNING):
            return cls(regex, ())  # every branch anchored (the parser factored the ``^`` out)
        if len(tree) != 1 or tree[0][0] is not sre_parse.BRANCH:
            return None
        literals = []
        for branch in tree[0][1][1]:
            if len(branch) and branch[0] == (sre_parse.AT, sre_parse.AT_BEGINNING):
                continue
            literal = ""
            for op, value in branch:
                if op is not sre_parse.LITERAL:
                    break
                literal += chr(value)
            if not literal:
                return None
            literals.append(literal)
        return cls(regex, tuple(literals))

    def search(self, text: str) -> re.Match[str] | None:
        found = self.regex.match(text)
        if found is None and any(literal in text for literal in self.unanchored_literals):
            found = self.regex.search(text)
        return found


def one_blas_thread() -> threadpool_limits:
    """Matrix products on one thread while tagging: Warta runs one worker process per core, and
    OpenBLAS's own threads would compete with the other workers (BLIS was single-threaded)."""
    return threadpool_limits(limits=1, user_api="blas")


def tag_articles(
    articles: Iterable[Article], model_path: Path, batch_size: int = 64
) -> Iterator[TaggedArticle]:
    """Tag titles and bodies in batches; yields articles in input order."""
    nlp = load_model(model_path)
    pending: list[Article] = []
    for article in articles:
        pending.append(article)
        if len(pending) >= batch_size:
            yield from _tag_batch(nlp, pending)
            pending = []
    if pending:
        yield from _tag_batch(nlp, pending)


def _tag_batch(nlp: Language, articles: list[Article]) -> list[TaggedArticle]:
    texts = [text for a in articles for text in (a.title, a.body)]
    tagged: list[TaggedArticle] = []
    # Strings the model interns for these texts are freed when the zone closes; without it a
    # long-running worker's vocabulary grows with every new word it has ever seen.
    with nlp.memory_zone(), one_blas_thread():
        docs = iter(nlp.pipe(texts, batch_size=len(texts)))
        for article in articles:
            title_doc, body_doc = next(docs), next(docs)
            body_mentions = list(doc_mentions(body_doc, "body", article.language))
            # Headlines are often Title Case, which the model reads as names ("Bahas Perbaikan"):
            # keep a headline mention only when the body names it too.
            body_names = {m.canonical for m in body_mentions}
            title_mentions = [
                m for m in doc_mentions(title_doc, "title", article.language) if m.canonical in body_names
            ]
            mentions = [*title_mentions, *body_mentions]
            fields = {"title": article.title, "body": article.body}
            entities = [m for m in canonicalise(mentions, fields) if not _is_dateline_credit(m, article.body)]
            tagged.append(TaggedArticle(**article.model_dump(), entities=entities))
    return tagged


# The outlet's credit that opens a news text: ``Jakarta, CNN Indonesia --``, ``Jakarta (ANTARA
# News) -``, ``Rimanews -``: a short first-line prefix ending in a comma or bracket (the place),
# or none, then the organisation, then a dash.
_DATELINE_PREFIX = re.compile(r"\s*(?:[^\n.!?]{0,50}[,(]\s*)?")
_DATELINE_DASH = re.compile(r"\s*\)?\s*[-\u2013\u2014]")  # hyphen, en or em dash


def _is_dateline_credit(mention: Entity, body: str) -> bool:
    """The organisation of the dateline that opens the body: the publisher's credit, which the
    article's ``source`` and ``site_name`` already record. As an entity it would top the
    organisation facet (``CNN Indonesia`` in 1,238 of IndoSum's 3,463 articles) without saying
    what any article is about; the outlet's mentions in the text stay."""
    return (
        mention.field == "body"
        and mention.label == "ORG"
        and _DATELINE_PREFIX.fullmatch(body, 0, mention.start) is not None
        and _DATELINE_DASH.match(body, mention.end) is not None
    )


# The legal forms that end a company's name, in the case news writes them.
_COMPANY_SUFFIXES = frozenset(str.split("Inc Corp Corporation Ltd LLC GmbH Tbk Holdings Group Grup"))


# Indonesian football clubs are named Persatuan Sepak Bola ... and called by its contraction
# (``Persija``, ``Persib``, ``Persebaya``, ``Persipura``); the training data's are organisations.
_CLUB_CONTRACTION = re.compile(r"Pers[aeiou][a-z]+")  # not ``Persson``


def _is_club_name(word: str) -> bool:
    return _CLUB_CONTRACTION.fullmatch(word) is not None and not _is_common_word(word.lower(), "id")


def _whole_span_rule(doc: Doc, start: int, end: int, label: str, language: str | None) -> tuple[int, str]:
    """The rules that read one model entity's whole text; returns its (possibly later) start and
    its label:
    - in English, a leading ``the`` before a known place is cut and the span is a place
      (``The U.S``, tagged as an organisation);
    - a "person" or "organisation" whose whole name is a known country or city is a place
      (``Ukraina``, ``U.S``);
    - a "person" or "place" whose name ends in a company's legal form is an organisation
      (``Alphabet Inc``), as is, in Indonesian, a "person" named by a football club's
      contraction (``Persija``, ``Persija Jakarta``)."""
    if end - start > 1 and doc[end - 1].text in _COMPANY_SUFFIXES:
        return start, "ORG"  # ``Apple Inc``, ``Bank Mandiri Tbk``, read as a person or place
    if language == "id" and label == "PER" and end - start <= 2 and _is_club_name(doc[start].text):
        return start, "ORG"  # ``Persija``, ``Persija Jakarta``
    starts_with_the = end - start > 1 and doc[start].lower_ == "the"
    if language == "en" and starts_with_the and is_place(doc[start + 1 : end].text):
        return start + 1, "LOC"
    if label in ("PER", "ORG") and is_place(doc[start:end].text):
        return start, "LOC"
    return start, label


def entity_spans(doc: Doc, language: str | None = None) -> list[tuple[int, int, str]]:
    """The model's entities after Warta's rules, as (start token, end token, label).

    Shared with ``warta eval ner`` so every rule is measured on the dev sets:
    - a place mention is extended over the next one or two tokens when the longer span is a
      known place (the model often tags ``Amerika`` of ``Amerika Serikat``, ``Arab`` of ``Arab Saudi``);
      and over the capitalised token before it likewise (``North Korea``);
    - a "person" or "organisation" whose whole name is a known place is a place; a "person" or
      "place" whose name ends in a company's legal form is an organisation (``Alphabet Inc``), as
      is an Indonesian club's contraction read as a person (``Persija``);
    - in cased text, an entity written all in lower case is not one (``kosong``, "empty";
      ``jalan raya``, "main road"; ``tim-tim``) unless it is a known place (``korea utara``);
      lower-cased text, like NER-P's, keeps them;
    - in Indonesian and English cased text, a single title-case word that opens a sentence and
      that the language's news mostly writes in lower case is not an entity (``Bulan lalu``);
      before other words, it is cut from the entity unless training entities start with it
      (``[Melansir] AFP``, "citing AFP"; not ``Partai Golkar``);
    - in English text, a single word that is a nationality or an official language
      (``American``, ``French``) is not an entity; nor, in any text, a rank or honorific alone
      (``Cmdr``, ``Pak``); nor, in Indonesian, a common word with the enclitic ``-nya``
      (``Rinciannya``, "its details");
    - in English text (``language="en"``), capitalised words outside any entity that name a known
      country or city are places, an entity's trailing lower-case words are cut (``Griffin said``)
      and so are its leading lower-case common words (``analyst Ken``; not ``al`` of ``al - Qaida``),
      and a leading ``the`` before a known place is cut (``The U.S``, tagged as an organisation);
    - an organisation or place directly followed by a bracketed abbreviation that is one token,
      as some pre-tokenised corpora have it (``Komisi Pemilihan Umum (KPU)``), takes it in;
    - in Indonesian cased text, a name word right after a regional office, where the model found
      nothing, is a place (``Gubernur DKI Jakarta``, ``Wali Kota Malang``, ``Pilkada DKI``);
    - two or three capitalised words right after an office title, where the model found nothing,
      are a person (``Wakil Asisten Menteri Luar Negeri Sonata Coulter``);
    - in Indonesian text, a religious holiday or the fasting month is no entity (``Idul Fitri``,
      ``Bulan Ramadan``): dates are not entities; nor is a law (``KUHP``, ``Perppu Ormas``);
    - an organisation or place gives up the rank of the officer named after it (``Polda Metro
      Jaya [Komisaris Besar] Argo Yuwono``);
    - in cased text, a club suffix tagged alone (``FC``, ``City``) takes in the name words before
      it (``Pertandingan [Arema] FC``);
    - in Indonesian text, the outlet after a verb of citing is an organisation, whether the model
      read it as a person (``dilansir Marca``) or missed it (``dikutip dari Travel and Leisure``);
    - in cased text, a person takes in a hyphenated lower-case syllable after it (``Song Joong-ki``);
      and a legal form after capitalised words the model missed makes them a company
      (``Conocophilips Indonesia Inc``).
    """
    spans: list[tuple[int, int, str]] = []
    cased = _is_cased(doc)
    ents = list(doc.ents)
    for i, ent in enumerate(ents):
        start, end = ent.start, ent.end
        if _opening_word_to_cut(doc, start, end, language, cased):
            start += 1  # ``[Melansir] AFP``, "citing AFP"; ``[Nasib] Sergio Aguero``, "the fate of"
        start, label = _whole_span_rule(doc, start, end, ent.label_, language)
        if label == "LOC":
            limit = min(len(doc), ents[i + 1].start if i + 1 < len(ents) else len(doc), end + 2)
            for longer in range(limit, end, -1):
                if is_place(doc[start:longer].text):
                    end = longer
                    break
            before = spans[-1][1] if spans else 0
            if start > before and doc[start - 1].text[:1].isupper() and is_place(doc[start - 1 : end].text):
                start -= 1  # ``North [Korea]``
        if spans and start < spans[-1][1]:
            continue  # overlapped by the previous, extended span
        if language == "en" and cased:
            while end - start > 1 and doc[end - 1].text.isalpha() and doc[end - 1].text.islower():
                end -= 1  # English names end in a capitalised word (``Griffin [said]``)
            while (
                end - start > 1
                and doc[start].text in _common_words("en")
                and doc[start].text not in _PARTICLES
            ):
                start += 1  # nor start with a common word in lower case (``[analyst] Ken``, ``[new] Amazon``)
        if label != "PER":
            end = _before_a_trailing_rank(doc, start, end)
        if end - start == 1 and _lone_word_is_no_name(doc, start, language, cased):
            continue
        if language == "id" and (_is_holiday(doc, start, end) or doc[start].lower_ in _LAWS):
            continue
        if cased and _all_lower_case(doc[start:end].text):
            continue
        spans.append((start, end, label))
    if language == "en":
        spans = _known_places(doc, spans)
    if language == "id" and cased:
        spans = _places_of_offices(doc, spans)
    if cased:
        spans = _clubs_before_their_suffix(doc, spans, language)
    if language == "id":
        spans = _cited_outlets(doc, spans)
    if cased:
        spans = _hyphenated_given_names(doc, spans)
        spans = _companies_by_legal_form(doc, spans)
    return _titled_persons(doc, _glued_abbreviations(doc, spans))


# Legal forms that never end anything but a company's name (not ``Group``: ``Grup B`` is a round).
_LEGAL_FORMS = _COMPANY_SUFFIXES - {"Group", "Grup"}


def _companies_by_legal_form(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A legal form (``Inc``, ``Tbk``) after capitalised words that no entity covers makes them a
    company (``Conocophilips Indonesia Inc``), which the model missed, and joins an organisation
    right before them (``[PT Marga Abhinaya] Abadi Tbk``). The words stop at a common word or an
    office title (not ``[Ketua Dewan] Direksi Ortus Holdings``, "the board's chairman")."""
    forms = _token_positions(doc, _LEGAL_FORMS, "ORTH")
    if not forms:
        return spans
    out = list(spans)
    covered = _covered(spans)
    organisation_ending_at = {end: k for k, (_, end, label) in enumerate(spans) if label == "ORG"}
    for i in forms:
        if i in covered:
            continue
        start = i
        while start > 0 and i - start < 5 and start - 1 not in covered and _company_word(doc[start - 1].text):
            start -= 1
        k = organisation_ending_at.get(start)
        if k is not None:
            out[k] = (spans[k][0], i + 1, "ORG")
        elif start < i:
            out.append((start, i + 1, "ORG"))
    return sorted(out)


def _company_word(text: str) -> bool:
    lower = text.lower()
    return (
        (text == "&" or (text[:1].isupper() and text.replace(".", "").replace("'", "").isalnum()))
        and not _is_common_in_any_language(lower)
        and lower not in _TITLE_WORDS
    )


def _hyphenated_given_names(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A person directly followed by a hyphen and a short lower-case syllable that is no common
    word takes both in: the second half of a Korean given name (``Song Joong-ki``, ``Park
    Geun-hye``), which the training data's persons include and the model often leaves out. A
    person that ends in the hyphen takes the syllable whatever it is (``Kim Jong-[un]``)."""
    if not any(
        label == "PER" and (doc[end - 1].text == "-" or doc[end : end + 1].text == "-")
        for _, end, label in spans
    ):
        return spans
    covered = _covered(spans)
    out = []
    for start, end, label in spans:
        if label == "PER" and doc[end - 1].text == "-" and end - start > 1:
            hyphen = end - 1
        elif label == "PER" and end < len(doc) and doc[end].text == "-":
            hyphen = end
        else:
            out.append((start, end, label))
            continue
        syllable = doc[hyphen + 1].text if hyphen + 1 < len(doc) else ""
        if (
            hyphen + 1 not in covered
            and syllable.isalpha()
            and syllable.islower()
            and 2 <= len(syllable) <= 5
            and not doc[hyphen - 1].lower_.endswith(syllable)  # reduplicated: ``Sipiso-piso``
            and (
                hyphen < end  # the model's own span runs into the name
                or not _is_common_in_any_language(syllable)
            )
        ):
            end = hyphen + 2
        out.append((start, end, label))
    return out


# Indonesian news credits what it reports with these verbs: ``dilansir Marca``, ``seperti dikutip
# dari Mirror``, ``melansir TechCrunch`` ("as reported by ..."); ``dari`` ("from") may follow.
_CITING_VERBS = frozenset({"dilansir", "melansir", "dikutip"})


def _cited_outlets(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A one-word "person" right after a verb of citing is the outlet cited, an organisation;
    not a word of a person the text names in full (``Made`` of ``Made Astawan``)."""
    # The token after each verb, or after its ``dari``: where the outlet's name starts.
    outlet_starts = [
        i + 2 if doc[i + 1 : i + 2].text.lower() == "dari" else i + 1
        for i in _token_positions(doc, _CITING_VERBS, "LOWER")
    ]
    if not outlet_starts:
        return spans
    name_words = {
        t.text for start, end, label in spans if label == "PER" and end - start > 1 for t in doc[start:end]
    }
    out = [
        (start, end, "ORG")
        if label == "PER"
        and end - start == 1
        and start in outlet_starts
        and doc[start].text not in name_words
        else (start, end, label)
        for start, end, label in spans
    ]
    covered = _covered(out)
    added = []
    for start in outlet_starts:
        if start >= len(doc) or start in covered or not _outlet_word(doc[start].text):
            continue
        if doc[start].lower_ in _common_words("id"):
            continue  # ``dikutip [Laporan] ...``; a common word does not start an outlet's name
        end = start + 1
        while end < len(doc) and end - start < 4 and end not in covered:
            if _outlet_word(doc[end].text):
                end += 1
            elif doc[end].lower_ in _NAME_JOINERS and end + 1 < len(doc) and _outlet_word(doc[end + 1].text):
                end += 2  # ``Travel and Leisure``
            else:
                break
        added.append((start, end, "ORG"))
    return sorted(out + added) if added else out


_NAME_JOINERS = frozenset({"and", "of", "&", "+", "und"})


def _outlet_word(text: str) -> bool:
    """A word that can be part of an outlet's name (``Crash.net``, ``BBC``, ``Reporter``), not a
    day or month (``dikutip Rabu (5/7)``, "quoted on Wednesday")."""
    return (
        text[:1].isupper()
        and text.replace(".", "").isalnum()
        and text.lower() not in _month_names()
        and text.lower() not in _day_names()
    )


# Words that end a football club's name, which the model sometimes tags alone (``Arema [FC]``).
_CLUB_SUFFIXES = frozenset({"FC", "SC", "CF", "AFC", "United", "City"})


def _clubs_before_their_suffix(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
    """A club suffix the model tagged alone as an organisation takes in the one or two name words
    before it that no entity covers (``Pertandingan [Arema] FC``, ``[Borneo] FC``), stopping at a
    word the language's news mostly writes in lower case (``Pertandingan``, ``Pemain``)."""
    lone_suffixes = [
        (start, end)
        for start, end, label in spans
        if end - start == 1 and label == "ORG" and doc[start].text in _CLUB_SUFFIXES
    ]
    if not lone_suffixes:
        return spans  # most texts: no set of covered tokens to build
    covered = _covered(spans)
    out = []
    for start, end, label in spans:
        if (start, end) in lone_suffixes:
            while (
                start > 0
                and end - start < 3
                and start - 1 not in covered
                and doc[start - 1].text[:1].isupper()
                and doc[start - 1].text.isalpha()
                and not _is_common_word(doc[start - 1].lower_, language)
            ):
                start -= 1
        out.append((start, end, label))
    return out


# Religious holidays and the fasting month, which the model tags as persons or places in
# Indonesian news (``Idul Fitri``, ``Ramadan``): dates are not entities. ``Ramadhan`` counts
# only after ``Bulan`` (alone it is also a given name), ``Natal`` (Christmas) only in Indonesian.
_HOLIDAYS = frozenset(
    {"ramadan", "lebaran", "idul fitri", "idulfitri", "idul adha", "iduladha", "natal", "imlek"}
    | {"nyepi", "waisak", "paskah"}
)
_HOLIDAY_PREFIXES = ("bulan ", "hari raya ", "malam ")
# Indonesian laws and regulations by their short names (``KUHP``, the criminal code; ``Perppu``, a
# regulation in lieu of law; ``ITE``, the electronic transactions law), which the model tags as
# organisations or persons: the corpora leave them untagged (``KUHP`` 4 times, ``UU`` 36 in train).
_LAWS = frozenset(
    str.split("""kuhp kuhap kuhper perppu perpu uu perpres permen perda pergub perwali perbup
    inpres keppres kepres ite""")
)


def _all_lower_case(text: str) -> bool:
    """No capital letter, and not a known place (``korea utara``)."""
    return not any(ch.isupper() for ch in text) and not is_place(text)


def _is_holiday(doc: Doc, start: int, end: int) -> bool:
    name = " ".join(token.lower_ for token in doc[start:end])
    prefix = next((p for p in _HOLIDAY_PREFIXES if name.startswith(p)), "")
    name = name[len(prefix) :]
    return name in _HOLIDAYS or (prefix == "bulan " and name == "ramadhan")


_SENTENCE_END = frozenset(".!?…")
# Lower-case words that begin names (``al - Qaida``, ``van Gogh``, ``de Gaulle``, ``bin Laden``).
_PARTICLES = frozenset(str.split("al el bin ibn van von de da di du le la del der den dos"))
# Ranks and honorifics that stand before a name, English and Indonesian; title case only, so the
# acronyms ``MS``, ``DR``, ``PAK`` stay. Not ``Sen`` (also a surname) nor ``H`` (also an initial).
_HONORIFICS = frozenset(
    str.split("""mr mrs ms dr prof lt col maj gen capt cmdr cdr sgt adm gov rep rev
    bapak pak ibu bu ir drs""")
)
_QUOTE_TOKENS = frozenset(_QUOTES)


def _lone_word_is_no_name(doc: Doc, i: int, language: str | None, cased: bool) -> bool:
    """A one-word model entity that is no name."""
    word = doc[i]
    if cased and word.text.isalpha() and word.text.islower():
        return True  # one lower-case word in cased text (``kosong``, "empty")
    if language == "en" and is_demonym(word.text):
        return True  # a nationality (``American``, ``Italian``)
    if word.is_title and word.lower_.rstrip(".") in _HONORIFICS:
        return True  # the rank before a name (``Cmdr. Sean Robertson``), tagged on its own
    if word.lower_.rstrip(".") in _NEVER_NAMES_ALONE:
        return True  # ``Kabid Humas Polda Jabar Kombes Yusri Yunus``: the rank, tagged on its own
    if language == "id" and _common_word_with_enclitic(word.text):
        return True  # ``Rinciannya`` ("its details"), ``Lucunya`` ("the funny thing is")
    # capitalised only because it opens the sentence (``Bulan lalu``, "last month")
    return _capitalised_to_open_a_sentence(doc, i, language, cased) and not _is_dateline(doc, i)


def _common_word_with_enclitic(text: str) -> bool:
    """A common Indonesian word of four letters or more with the enclitic ``-nya`` ("its", "the")
    glued on, and not a known place (``Kenya``, ``Catalunya``)."""
    lower = text.lower()
    return (
        lower.endswith("nya") and len(lower) >= 7 and _is_common_word(lower[:-3], "id") and not is_place(text)
    )


def _capitalised_to_open_a_sentence(doc: Doc, i: int, language: str | None, cased: bool) -> bool:
    """Token ``i`` is a title-case word (not an acronym, ``BIG``) that the language's news mostly
    writes in lower case, and it opens a sentence, a line or a subheading."""
    word = doc[i]
    return cased and word.is_title and _is_common_word(word.lower_, language) and _opens_sentence(doc, i)


def _opening_word_to_cut(doc: Doc, start: int, end: int, language: str | None, cased: bool) -> bool:
    """The first word of an entity of two words or more is a common word capitalised to open a
    sentence or a subheading (``Melansir AFP``, "citing AFP"; ``Nasib Sergio Aguero``, "the fate
    of"), starts no entity of the training data (``Partai Golkar``, ``Desa Pon``) and a
    capitalised word follows it."""
    return (
        end - start > 1
        and doc[start].lower_ not in _entity_first_words()
        and doc[start + 1].text[:1].isupper()
        and _capitalised_to_open_a_sentence(doc, start, language, cased)
    )


def _opens_sentence(doc: Doc, i: int) -> bool:
    """Token ``i`` starts the text, a line or a sentence (quotes before it aside)."""
    while i > 0 and doc[i - 1].text in _QUOTE_TOKENS:
        i -= 1
    return i == 0 or doc[i - 1].text in _SENTENCE_END or "\n" in doc[i - 1].text_with_ws


def _is_dateline(doc: Doc, i: int) -> bool:
    """``Serang, Banten (ANTARA News) -``: a bracket follows within three tokens."""
    return any(t.text == "(" for t in doc[i + 1 : i + 4])


# Regional offices, police commands and elections that name their region right after them
# (``Gubernur DKI Jakarta``, ``Wali Kota Malang``, ``Kapolda Jateng``, ``Pilkada DKI``).
_OFFICES_OF_A_PLACE = frozenset(
    str.split("gubernur wagub bupati walikota pemkot pemprov pemkab pilkada pilgub kapolda kapolres")
)
# Police and military ranks, which follow the region in ``Kapolres Buru AKBP Leo Simatupang``.
_RANKS = frozenset(
    str.split("""akbp akp kombes kombespol irjen brigjen brigadir komisaris jenderal pol kompol iptu
    ipda aiptu mayjen letjen kolonel marsekal laksamana""")
)
# Words the model tags alone as names that never are, in any case (``Kombes``, ``AKBP``): those
# ranks (not ``Laksamana``, also a given name), heads of a division or unit (``Kabid Humas``),
# and Islamic expressions (``Alhamdulillah``, "praise be to God"; not ``Amin``, also a name).
_NEVER_NAMES_ALONE = (_RANKS - {"laksamana"}) | frozenset(
    str.split("""kabid kabag kasat kasubdit kadiv panglima sekda alhamdulillah insyaallah masyaallah
    subhanallah astagfirullah astaghfirullah bismillah ormas""")
)


_RANK_TAIL_WORDS = _RANKS | {"besar", "polisi"}  # ``Komisaris Besar Polisi``
_RANKS_ON_THEIR_OWN = _RANKS - {"laksamana", "jenderal"}  # not given names, not ``Jalan Jenderal``


def _before_a_trailing_rank(doc: Doc, start: int, end: int) -> int:
    """The end of an organisation or place without the rank of the officer named after it
    (``Polda Metro Jaya [Komisaris Besar] Argo Yuwono``, ``NTB [AKBP]``): trailing rank words
    whose first is a rank on its own (not ``Jenderal`` of ``Jalan Jenderal``, nor ``Laksamana``)."""
    cut = end
    while cut - start > 1 and doc[cut - 1].lower_ in _RANK_TAIL_WORDS:
        cut -= 1
    while cut < end and doc[cut].lower_ not in _RANKS_ON_THEIR_OWN:
        cut += 1  # the run starts at its first rank word (``Besar`` alone ends many names)
    return cut


def _places_of_offices(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """In Indonesian cased text, a name word right after a regional office, outside every entity,
    is a place (``Gubernur [DKI Jakarta]``, ``Wali Kota [Malang]``, ``Pilkada [DKI]``): one
    title-case word, or a region's acronym and one (``DKI Jakarta``), joined to a place the model
    found right after it (``Kapolda DI Yogyakarta``). Not when another untagged name word follows
    (``Gubernur Annas Makmun`` is a person the model missed), nor a rank, a month or a word
    Indonesian news mostly writes in lower case."""
    offices = _office_positions(doc)
    if not offices:
        return spans
    covered = _covered(spans)
    place_starts = {s: e for s, e, label in spans if label == "LOC"}
    absorbed: set[int] = set()  # starts of the model's places that an added place takes in
    added: list[tuple[int, int, str]] = []
    for i in offices:
        start = i + 1
        if i in covered or start in covered:
            continue
        first = doc[start].text
        end = start + 1
        if first.isalpha() and first.isupper() and len(first) > 1:  # ``DKI``, ``NTB``
            if end < len(doc) and end not in covered and _place_word(doc[end].text):
                end += 1
        elif not _place_word(first):
            continue
        if (
            end < len(doc)
            and end not in covered
            and _name_word(doc[end].text)
            and doc[end].lower_ not in _RANKS
        ):
            continue  # a name follows; a rank does not count (``Kapolres Jaktim Kombes Andry``)
        if end in place_starts:  # ``Kapolda [DI] [Yogyakarta]``: one place
            absorbed.add(end)
            end = place_starts[end]
        added.append((start, end, "LOC"))
    if not added:
        return spans
    return sorted([span for span in spans if span[0] not in absorbed] + added)


def _office_positions(doc: Doc) -> list[int]:
    """Tokens (not the last) that are a regional office (``Wali Kota`` by its ``Kota``)."""
    last = len(doc) - 1
    return [
        i
        for i in _token_positions(doc, _OFFICE_WORDS, "LOWER")
        if i < last and (doc[i].lower_ != "kota" or (i > 0 and doc[i - 1].lower_ == "wali"))  # ``Wali Kota``
    ]


_OFFICE_WORDS = _OFFICES_OF_A_PLACE | {"kota"}


def _token_positions(doc: Doc, words: frozenset[str], attr: str) -> list[int]:
    """The tokens whose ``attr`` (``"LOWER"``, ``"ORTH"``) is one of ``words``, found on spaCy's
    hash column instead of a Python loop over every token (the rules run on every text)."""
    from spacy.attrs import IDS

    wanted = _string_hashes(words)
    # A set lookup per hash: numpy.isin costs more on a text's few hundred tokens.
    return [i for i, value in enumerate(doc.to_array(IDS[attr]).tolist()) if value in wanted]


@lru_cache(maxsize=8)
def _string_hashes(words: frozenset[str]) -> frozenset[int]:
    """spaCy's string hashes of ``words`` (the same in every vocabulary)."""
    from spacy.strings import get_string_id

    return frozenset(get_string_id(word) for word in words)


def _place_word(word: str) -> bool:
    lower = word.lower()
    return (
        _name_word(word)
        and lower not in _RANKS
        and lower not in _common_words("id")
        and lower not in _month_names()
        and word != "The"
    )


@lru_cache(maxsize=1)
def _day_names() -> frozenset[str]:
    from babel.dates import get_day_names

    return frozenset(str(name).lower() for name in get_day_names(locale="id").values())


@lru_cache(maxsize=1)
def _month_names() -> frozenset[str]:
    from babel.dates import get_month_names

    return frozenset(str(name).lower() for name in get_month_names(locale="id").values())


def _glued_abbreviations(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """An organisation or place directly followed by a bracketed abbreviation that is one token
    takes it in (``Komisi Pemilihan Umum (KPU)``), which the abbreviation's own entity, if any,
    then leaves. Only pre-tokenised text has such tokens (spaCy's tokenizer splits brackets
    off, so articles never do): idner-news-2k's tokeniser keeps them, and its annotators put
    them inside organisations and places (30 of 35 in train) but rarely persons (1 of 20)."""
    longer_starts = {start for start, end, _ in spans if end - start > 1}
    merged: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if merged and merged[-1][1] > start:
            continue  # this abbreviation was taken in by the name before it
        if (
            label in ("ORG", "LOC")
            and end < len(doc)
            and _BRACKETED_ABBREVIATION.fullmatch(doc[end].text)  # ``(KPU)``, not a date ``(24/8)``
            and end not in longer_starts  # ``(KPU) Jakarta`` as one entity stays whole
        ):
            end += 1
        merged.append((start, end, label))
    return merged


def _is_cased(doc: Doc) -> bool:
    """Some word differs from its lower case; compares the lexemes' ORTH and LOWER columns
    instead of building ``doc.text`` (a Python object per token, ~4% of tagging time)."""
    from spacy.attrs import LOWER, ORTH

    columns = doc.to_array([ORTH, LOWER])
    return bool((columns[:, 0] != columns[:, 1]).any())


# Words of an office title; a title phrase needs one of _TITLE_HEADS.
_TITLE_HEADS = frozenset(
    str.split("""presiden wapres menteri menlu sekretaris sekjen dubes gubernur wagub bupati walikota
    ketua direktur dirut kepala bicara jubir panglima kapolri kapolda kapolres perdana kanselir
    hakim jaksa pelatih deputi asisten
    president minister secretary ambassador governor mayor chairman chairwoman director
    spokesman spokeswoman spokesperson chancellor senator judge coach envoy""")
)
_TITLE_WORDS = _TITLE_HEADS | frozenset(
    str.split("""wakil duta besar umum utama juru luar dalam negeri keuangan pertahanan senior jenderal
    agung kota wali koordinator bidang urusan negara khusus
    vice deputy assistant prime foreign under state general special""")
)


def _titled_persons(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Two or three capitalised words right after an office title, tagged as nothing by the
    model, are a person (``Wakil Asisten Menteri Luar Negeri Sonata Coulter``)."""
    covered = _covered(spans)
    added: list[tuple[int, int, str]] = []
    i = 0
    n = len(doc)
    while i < n:
        j = i
        while j < n and doc[j].lower_ in _TITLE_WORDS:
            j += 1
        if j == i or not any(doc[k].lower_ in _TITLE_HEADS for k in range(i, j)):
            i = max(j, i + 1)
            continue
        end = j
        while end < n and end - j < 4 and _name_word(doc[end].text):
            end += 1
        start = j
        while start < end and is_place(doc[start].text):
            start += 1  # ``Presiden Perancis Jacques Chirac``: the country is not the name
        if 2 <= end - start <= 3 and (end == n or not _name_word(doc[end].text)):
            words = [t.lower_ for t in doc[start:end]]
            if (
                not any(k in covered for k in range(start, end))
                and not any(w in _common_words("id") or _PORTFOLIO.match(w) for w in words)
                and not is_place(doc[start:end].text)
            ):
                added.append((start, end, "PER"))
        i = end  # past the title (end >= j > i)
    return sorted(spans + added) if added else spans


_PORTFOLIO = re.compile(r"^(?:per|pe|ke)[a-z]{3,}an$")  # Perhubungan, Pekerjaan, Keuangan


def common_words_path(language: str) -> Path:
    return MODELS_DIR / f"common_words_{language}.txt"


def _is_common_in_any_language(word: str) -> bool:
    """``word`` (lower case) is on some language's common-word list."""
    return any(_is_common_word(word, language) for language in COMMON_WORD_LANGUAGES)


def _is_common_word(word: str, language: str | None) -> bool:
    """``word`` (lower case) is on ``language``'s common-word list; no list, no common words."""
    return language in COMMON_WORD_LANGUAGES and word in _common_words(language)


@lru_cache(maxsize=4)
def _common_words(language: str) -> frozenset[str]:
    """Words the language's news mostly writes in lower case (``muda``, ``rakyat``, ``nomor``;
    ``hopefully``, ``took``): a capitalised one after a title is part of the office, and one
    alone at a sentence's start is no name. Built by ``warta train ner``."""
    return frozenset(common_words_path(language).read_text(encoding="utf-8").split())


def _name_word(text: str) -> bool:
    return text[:1].isupper() and text.isalpha() and not (len(text) > 1 and text.isupper())


def _covered(spans: list[tuple[int, int, str]]) -> set[int]:
    """The token positions inside any of ``spans``."""
    return {i for start, end, _ in spans for i in range(start, end)}


def _known_places(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Capitalised words outside any entity that name a known country or city are places.

    English only: on the English dev part +0.011 F1 (LOC +0.021); on idner-news-2k -0.025, whose
    annotators leave many country names untagged, and ±0.000 on the other Indonesian sets."""
    covered = _covered(spans)
    added: list[tuple[int, int, str]] = []
    i = 0
    while i < len(doc):
        found = 0
        for n in (3, 2, 1):
            window = doc[i : i + n]
            if (
                len(window) == n
                and not any(k in covered for k in range(i, i + n))
                and all(t.text[:1].isupper() for t in window)
                and is_place(window.text)
            ):
                found = n
                break
        if found:
            added.append((i, i + found, "LOC"))
            i += found
        else:
            i += 1
    return sorted(spans + added) if added else spans


def doc_mentions(doc: Doc, field: str, language: str | None) -> Iterator[Entity]:
    """The entities of one tagged field, after the rules; canonical names are per mention
    (places by the gazetteer) until ``canonicalise`` reads the whole article."""
    for start_token, end_token, label in entity_spans(doc, language):
        span = doc[start_token:end_token]
        core = _MENTION_CORE.search(span.text)
        if core is None or label not in LABELS or not any(ch.isalpha() for ch in core.group()):
            continue
        text = core.group()
        start = span.start_char + core.start()
        name = _SPACE.sub(" ", text)
        yield Entity(
            text=text,
            label=label,  # type: ignore[arg-type]
            field=field,  # type: ignore[arg-type]
            start=start,
            end=start + len(text),
            canonical=_mention_canonical(name, label, language),
        )


def _mention_canonical(name: str, label: str, language: str | None) -> str:
    """A mention's own canonical name: CLDR's English name of a known place, an organisation
    without the national suffix (``DPR RI`` -> ``DPR``), a person without an honorific (``Mr.
    Trump``), else the name; in Indonesian, a place's or organisation's lower-case head word
    capitalised (``gedung KPK`` -> ``Gedung KPK``)."""
    if label == "LOC":
        place = canonical_place(name)
        return place or (_capitalised_head(name) if language == "id" else name)
    if label == "ORG":
        name = _national_suffix_cut(name)
        return _capitalised_head(name) if language == "id" else name
    return _without_honorific(name)


def _without_honorific(name: str) -> str:
    """A person's name without a leading rank or honorific (``Mr. Trump`` -> ``Trump``, which then
    joins the article's ``Donald Trump``; ``Dr Arif Satria``), when a name of two letters or more
    follows (``Gen Z``, ``Mr X`` stay)."""
    words = name.split(" ")
    while len(words) > 1 and words[0].lower().rstrip(".") in _HONORIFICS and len(words[1]) > 1:
        words = words[1:]
    return " ".join(words)


def _capitalised_head(name: str) -> str:
    """``gedung KPK`` -> ``Gedung KPK``, ``timnas Indonesia`` -> ``Timnas Indonesia``: Indonesian
    news writes a building's or team's head word in either case, and one facet should count
    both. Only before a capitalised word (``jalan raya`` is no name)."""
    head, _, rest = name.partition(" ")
    if head.isalpha() and head.islower() and any(word[:1].isupper() for word in rest.split()):
        return head.capitalize() + " " + rest
    return name


# ``DPR RI``, ``KPU RI``: a national institution's abbreviation with ``RI`` (Republik Indonesia)
# after it is the institution; not a word (``Kedubes RI``, "the Indonesian embassy", is no
# ``Kedubes``) nor glued (``KBRI``, ``TVRI`` are names of their own).
_NATIONAL_SUFFIX = re.compile(r"^([A-Z][A-Z0-9]+)(?: - | -|- | |-)RI$")


def _national_suffix_cut(name: str) -> str:
    found = _NATIONAL_SUFFIX.match(name)
    return found.group(1) if found else name


def canonicalise(mentions: list[Entity], texts: Mapping[str, str] | None = None) -> list[Entity]:
    """Within one article, a person's partial name takes the fullest name it is part of; of two
    equally full names (``Aji Santoso``, ``Aji Arema``) the one named first. A one-word place or
    organisation that is not a known place and is the surname of a person the article names in
    full is that person (``Sheeran`` after ``Ed Sheeran``; ``_surnames``). A person's nickname
    takes the full name (``Jokowi`` -> ``Joko Widodo``; ``nicknames_in``), as does a short given
    name (``Sandi`` -> ``Sandiaga Uno``; ``_given_name_beginnings``). An organisation's web address
    or ``Partai`` name takes the plain name the article also uses (``CNNIndonesia.com`` -> ``CNN
    Indonesia``; ``_plain_organisation_names``). With the article's ``texts`` (field -> text), an
    organisation the article abbreviates takes the abbreviation (``_abbreviations``), and that
    abbreviation is an organisation wherever it stands alone (``MA`` after ``Mahkamah Agung (MA)``).
    A "person" that is a company of the article without its legal form is that company
    (``Ceres Robotics`` -> ``Ceres Robotics Inc``)."""
    fields = texts or {}
    abbreviations = _abbreviations(mentions, fields)
    defined_abbreviations = set(abbreviations.values())
    nicknames = {**_given_name_beginnings(mentions), **nicknames_in(mentions, fields)}
    surnames = _surnames(mentions)
    plain_names = _plain_organisation_names(mentions)
    companies = _companies_by_short_name(mentions)
    named = []
    for mention in mentions:
        if mention.label == "PER" and mention.canonical in companies:
            # ``Ceres Robotics`` after ``Ceres Robotics Inc``: the model read the short name as a person.
            mention = mention.model_copy(update={"label": "ORG", "canonical": companies[mention.canonical]})
        elif mention.label == "PER" and mention.canonical in nicknames:
            mention = mention.model_copy(update={"canonical": nicknames[mention.canonical]})
        elif mention.label != "PER" and mention.canonical in plain_names:
            # A web address can be read as a place (``CNNIndonesia.com``); it is the organisation.
            mention = mention.model_copy(update={"label": "ORG", "canonical": plain_names[mention.canonical]})
        elif mention.label != "ORG" and mention.canonical in defined_abbreviations:
            # The article spells it out as an organisation (``Mahkamah Agung (MA)``); the model
            # read a later ``MA`` alone as a person.
            mention = mention.model_copy(update={"label": "ORG"})
        elif mention.label != "PER" and surnames.get(mention.text) and not is_place(mention.text):
            # The model often reads a surname alone as a place or club (``Sheeran``, ``Balotelli``).
            mention = mention.model_copy(update={"label": "PER", "canonical": surnames[mention.text]})
        named.append(mention)
    # dict, not set: ties must not follow the per-process string hash, or a rerun of the same
    # article could index a different canonical name.
    full_names = sorted(
        dict.fromkeys(m.canonical for m in named if m.label == "PER" and " " in m.canonical),
        key=lambda name: -len(name.split()),
    )
    out = []
    for mention in named:
        if mention.label == "PER":
            words = mention.canonical.split()
            for name in full_names:
                if _is_subsequence(words, name.split()):
                    mention = mention.model_copy(update={"canonical": name})
                    break
        elif mention.label == "ORG" and mention.canonical in abbreviations:
            mention = mention.model_copy(update={"canonical": abbreviations[mention.canonical]})
        out.append(mention)
    return out


def _companies_by_short_name(mentions: list[Entity]) -> dict[str, str]:
    """A company's name without its legal form -> the name with it (``Ceres Robotics`` -> ``Ceres
    Robotics Inc``), for the organisations of one article whose name ends in one."""
    found: dict[str, str] = {}
    for mention in mentions:
        words = mention.canonical.split()
        if mention.label == "ORG" and len(words) > 1 and words[-1] in _COMPANY_SUFFIXES:
            found.setdefault(" ".join(words[:-1]), mention.canonical)
    return found


def _surnames(mentions: list[Entity]) -> dict[str, str | None]:
    """Last word -> full name of the persons an article names in full, where every word is a name
    word on one line, the first a given name of the training data's persons (``given_names_path``)
    and none before the last a common word (not ``Bek Portugal``, "defender"); None where two
    persons share it (``Ashley Cole``, ``Andy Cole``)."""
    found: dict[str, str | None] = {}
    for mention in mentions:
        words = mention.canonical.split()
        if (
            mention.label != "PER"
            or len(words) < 2
            or "\n" in mention.text
            or not all(_name_word(word) for word in words)
            or words[0].lower() not in _given_names()  # not ``Dinkes Banten`` (a health office)
            or any(_is_common_in_any_language(word.lower()) for word in words[:-1])
        ):
            continue
        last = words[-1]
        found[last] = mention.canonical if found.get(last, mention.canonical) == mention.canonical else None
    return found


_WEB_ADDRESS = re.compile(r"^(\S.*?)\.(?:com|net|org|id|co\.id|co\.uk)$", re.IGNORECASE)
_PARTY = "partai"


def _letters(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _plain_organisation_names(mentions: list[Entity]) -> dict[str, str]:
    """Organisation name -> the plain name the same article also gives it: a web address whose
    letters are another organisation's (``CNNIndonesia.com`` -> ``CNN Indonesia``, the outlet's
    own dateline), and a party named with ``Partai`` that the article also names alone (``Partai
    Golkar`` -> ``Golkar``: the short name is what Indonesian news mostly writes). Only within
    the article: out of context ``Partai Republik`` is no ``Republik`` ("republic")."""
    organisations = dict.fromkeys(m.canonical for m in mentions if m.label == "ORG")
    by_letters: dict[str, list[str]] = {}
    for name in organisations:
        if not _WEB_ADDRESS.match(name):
            by_letters.setdefault(_letters(name), []).append(name)
    found: dict[str, str] = {}
    for mention in mentions:
        address = _WEB_ADDRESS.match(mention.canonical)
        if address and mention.label != "PER":
            names = by_letters.get(_letters(address.group(1)), [])
            if len(names) == 1:  # ``Detik.com`` with ``Detik`` and ``DETIK``: leave it
                found[mention.canonical] = names[0]
    for name in organisations:
        words = name.split()
        if len(words) == 2 and words[0].lower() == _PARTY and words[1] in organisations:
            found[name] = words[1]
    return found


def _given_name_beginnings(mentions: list[Entity]) -> dict[str, str]:
    """One-word person -> the one person of the article named in full whose first name it begins:
    a short given name (``Sandi`` of ``Sandiaga Uno``, ``Mega`` of ``Megawati Soekarnoputri``).
    Not a word of any full name (the partial-name join takes those), nor a given name in its own
    right (``Alex`` beside ``Alexis Sanchez`` may be another player), and only towards a name of
    name words (not the model's ``Euclid. Premis``)."""
    full_names = dict.fromkeys(
        m.canonical
        for m in mentions
        if m.label == "PER" and " " in m.canonical and all(_name_word(w) for w in m.canonical.split())
    )
    words_of_names = {word for name in full_names for word in name.split()}
    found: dict[str, str] = {}
    for mention in mentions:
        word = mention.canonical
        if (
            mention.label != "PER"
            or len(word) < 3
            or not _name_word(word)
            or word in words_of_names
            or word.lower() in _given_names()
        ):
            continue
        names = [name for name in full_names if name.split()[0].startswith(word)]
        if len(names) == 1:
            found[word] = names[0]
    return found


def bracketed_nicknames(mentions: list[Entity], texts: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(full name, bracketed word) for each person of two words or more that the text follows
    with one bracketed capitalised word not among the name's own: a nickname (``Joko Widodo
    (Jokowi)``), but as often a team, country or role (``Marc Marquez (Repsol)``, ``(JPN)``),
    which ``nicknames_in`` and ``warta train ner``'s nickname list tell apart."""
    for mention in mentions:
        text = texts.get(mention.field, "")
        if mention.label != "PER" or " " not in mention.canonical or not text:
            continue
        match = _BRACKETED_ABBREVIATION.match(text, mention.end)
        if match and match.group(1) not in mention.canonical.split():
            yield mention.canonical, match.group(1)


def nicknames_in(mentions: list[Entity], texts: Mapping[str, str]) -> dict[str, str]:
    """Nickname -> full name for one article: the committed list (``known_nicknames``), and the
    bracketed words the article puts after a person that can be spelled from the name
    (``SBY``, ``Setnov``, ``Jokowi``; not ``Repsol`` after ``Marc Marquez``). The full name is
    canonical, unlike an organisation's abbreviation: news in other languages, and formal
    Indonesian, write the full name."""
    own: dict[str, str] = {}
    for name, word in bracketed_nicknames(mentions, texts):
        if spells_nickname(word, name):
            own.setdefault(word, name)
    return {**known_nicknames(), **own}  # the article's own reading wins


def spells_nickname(word: str, name: str) -> bool:
    """``word`` starts with ``name``'s initial and its other letters follow in ``name`` in order
    (``Jokowi`` from ``Joko Widodo``, ``SBY`` from ``Susilo Bambang Yudhoyono``)."""
    return _initial_then_in_order(word.lower(), name.lower())


def entity_first_words_path() -> Path:
    return MODELS_DIR / "entity_first_words.txt"


@lru_cache(maxsize=1)
def _entity_first_words() -> frozenset[str]:
    """The first words of the training data's entities, lower-cased (``partai``, ``desa``, ``kota``);
    built by ``warta train ner`` (``pipeline.train_ner.build_entity_first_words``)."""
    return frozenset(entity_first_words_path().read_text(encoding="utf-8").split())


def given_names_path() -> Path:
    return MODELS_DIR / "given_names.txt"


@lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    return frozenset(given_names_path().read_text(encoding="utf-8").split())


def nicknames_path() -> Path:
    return MODELS_DIR / "person_nicknames.tsv"


@lru_cache(maxsize=1)
def known_nicknames() -> dict[str, str]:
    """Nickname -> full name of persons Indonesian news mostly calls by a nickname (``Jokowi``,
    ``Ahok``, ``SBY``), so that an article naming only ``Jokowi`` counts for ``Joko Widodo``.
    Mined from IndoSum by ``warta train ner`` (``pipeline.train_ner.build_nicknames``)."""
    lines = nicknames_path().read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t")[:2] for line in lines if line and not line.startswith("#"))


_COMPANY_FORMS = frozenset({"pt", "the"})


def _abbreviations(mentions: list[Entity], texts: Mapping[str, str]) -> dict[str, str]:
    """Organisation name -> the abbreviation the article gives it in brackets right after it
    (``Komisi Pemberantasan Korupsi (KPK)``). The abbreviation becomes the canonical name: it is
    what the rest of the article, and other articles, use (``KPK``), and it is often the same in
    every language (``World Health Organization (WHO)``, ``Organisasi Kesehatan Dunia`` is not).
    Only when the abbreviation can be spelled from the name, so a model span that is too short
    or too long (``Honda (RC213V)``, ``Kementerian Badan Usaha Milik Negara (BUMN)``) is left."""
    found: dict[str, str] = {}
    for mention in mentions:
        text = texts.get(mention.field, "")
        if mention.label != "ORG" or mention.canonical in found or not text:
            continue
        match = _BRACKETED_ABBREVIATION.match(text, mention.end)
        if match and _spells(match.group(1), mention.canonical):
            found[mention.canonical] = match.group(1)
    return found


def _spells(abbreviation: str, name: str) -> bool:
    """``abbreviation`` has two capitals or more, starts with the initial of ``name``'s first word
    (after a leading ``PT`` or ``the``) and its other letters and digits follow in ``name`` in
    order: ``PPATK`` from ``Pusat Pelaporan dan Analisis Transaksi Keuangan``, ``PBB`` from
    ``Perserikatan Bangsa-Bangsa``."""
    if sum(ch.isupper() for ch in abbreviation) < 2:
        return False  # ``(Persero)``
    letters = [ch.lower() for ch in abbreviation if ch.isalnum()]
    words = name.lower().split()
    if len(words) > 1 and words[0] in _COMPANY_FORMS and letters[0] != words[0][0]:
        words = words[1:]  # ``PT Liga Indonesia Baru (LIB)``; but ``PT Freeport Indonesia (PTFI)``
    return _initial_then_in_order("".join(letters), " ".join(words))


def _initial_then_in_order(letters: str, name: str) -> bool:
    """``letters`` start with ``name``'s first character and all follow in ``name`` in order: the
    shape of an abbreviation (``_spells``) and of a nickname (``spells_nickname``)."""
    rest = iter(name)  # consumed as it is searched: the letters must come in order
    return letters[:1] == name[:1] and all(ch in rest for ch in letters)


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    n = len(part)
    return n < len(whole) and any(whole[i : i + n] == part for i in range(len(whole) - n + 1))
