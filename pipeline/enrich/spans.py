"""The span rules: the model's entities corrected, in one function (``entity_spans``) that
``warta eval ner`` scores on the dev sets, so every rule is measured (MODEL_CARD.md, "What was
tried"). Rules on single entities (here) run inside its loop; the rules that read the whole
text (``text_rules.py``) run after it. Both ordered lists are at the end of this file, each rule
with where it applies and the example it fixes (``evaluation/rule_ablation.py`` measures each one's worth).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.enrich.text_rules import (
    _cited_outlets,
    _clubs_before_their_suffix,
    _companies_by_legal_form,
    _glued_abbreviations,
    _hyphenated_given_names,
    _known_places,
    _places_of_offices,
    _Span,
    _titled_persons,
)
from pipeline.enrich.words import (
    _COMPANY_SUFFIXES,
    _HONORIFICS,
    _QUOTES,
    _RANKS,
    _common_words,
    _entity_first_words,
    _is_common_word,
)
from pipeline.gazetteer import is_demonym, is_place

if TYPE_CHECKING:
    from spacy.tokens import Doc


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

    Shared with ``warta eval ner`` so every rule is measured on the dev sets. Each model entity
    goes through ``_ENTITY_RULES`` in order (a rule corrects the span or drops it); then the rules
    that read the whole text, ``_WHOLE_TEXT_RULES``, run over the kept spans. Both lists are at
    the end of this file, each rule with where it applies and the example it fixes.
    """
    spans: list[tuple[int, int, str]] = []
    cased = _is_cased(doc)
    ents = list(doc.ents)
    for i, ent in enumerate(ents):
        next_start = ents[i + 1].start if i + 1 < len(ents) else len(doc)
        around = _Around(language, cased, next_start, spans[-1][1] if spans else 0)
        span: tuple[int, int, str] | None = (ent.start, ent.end, ent.label_)
        for applies, rule in _ENTITY_RULES:
            if span is not None and applies(language, cased):
                span = rule(doc, span, around)
        if span is not None:
            spans.append(span)
    for runs_here, whole_text_rule in _WHOLE_TEXT_RULES:
        if runs_here(language, cased):
            spans = whole_text_rule(doc, spans, language)
    return spans


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


def _is_cased(doc: Doc) -> bool:
    """Some word differs from its lower case; compares the lexemes' ORTH and LOWER columns
    instead of building ``doc.text`` (a Python object per token, ~4% of tagging time)."""
    from spacy.attrs import LOWER, ORTH

    columns = doc.to_array([ORTH, LOWER])
    return bool((columns[:, 0] != columns[:, 1]).any())


@dataclass(frozen=True, slots=True)
class _Around:
    """What a rule on one entity may read besides it: the text's language and casing, where the
    next model entity starts, and where the last span kept so far ends."""

    language: str | None
    cased: bool
    next_start: int
    previous_end: int


def _cut_opening_common_word(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """``[Melansir] AFP``, "citing AFP"; ``[Nasib] Sergio Aguero``, "the fate of"."""
    start, end, label = span
    if _opening_word_to_cut(doc, start, end, around.language, around.cased):
        start += 1
    return start, end, label


def _relabel_by_the_whole_name(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """``Ukraina`` as a person is a place, ``Alphabet Inc`` an organisation (``_whole_span_rule``)."""
    start, end, label = span
    start, label = _whole_span_rule(doc, start, end, label, around.language)
    return start, end, label


def _extend_places(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """A place over the next one or two tokens (``Amerika [Serikat]``), or over the capitalised
    one before it (``[North] Korea``), when the longer span is a known place."""
    start, end, label = span
    if label != "LOC":
        return span
    limit = min(len(doc), around.next_start, end + 2)
    for longer in range(limit, end, -1):
        if is_place(doc[start:longer].text):
            end = longer
            break
    if (
        start > around.previous_end
        and doc[start - 1].text[:1].isupper()
        and is_place(doc[start - 1 : end].text)
    ):
        start -= 1
    return start, end, label


def _drop_overlapped(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """An entity that the previous span, extended, already covers."""
    return None if span[0] < around.previous_end else span


def _trim_english_edges(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """English names end in a capitalised word (``Griffin [said]``) and do not start with a
    lower-case common word (``[analyst] Ken``, ``[new] Amazon``; name particles stay: ``al - Qaida``)."""
    start, end, label = span
    while end - start > 1 and doc[end - 1].text.isalpha() and doc[end - 1].text.islower():
        end -= 1
    while end - start > 1 and doc[start].text in _common_words("en") and doc[start].text not in _PARTICLES:
        start += 1
    return start, end, label


def _drop_trailing_rank(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """``Polda Metro Jaya [Komisaris Besar]``: the rank belongs to the officer named next."""
    start, end, label = span
    return span if label == "PER" else (start, _before_a_trailing_rank(doc, start, end), label)


def _drop_lone_non_name(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """A word alone that is no name: ``Bulan`` opening a sentence, ``American``, ``Kombes``,
    ``Rinciannya``."""
    start, end, _label = span
    lone = end - start == 1 and _lone_word_is_no_name(doc, start, around.language, around.cased)
    return None if lone else span


def _drop_holidays_and_laws(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """``Idul Fitri``, ``Bulan Ramadan`` (dates are not entities); ``KUHP``, ``Perppu Ormas`` (laws)."""
    start, end, _label = span
    return None if _is_holiday(doc, start, end) or doc[start].lower_ in _LAWS else span


def _drop_all_lower_case(doc: Doc, span: _Span, around: _Around) -> _Span | None:
    """``kosong`` ("empty"), ``jalan raya`` ("main road") in cased text; ``korea utara`` stays."""
    return None if _all_lower_case(doc[span[0] : span[1]].text) else span


def _english(language: str | None, cased: bool) -> bool:
    return language == "en"


def _indonesian(language: str | None, cased: bool) -> bool:
    return language == "id"


def _indonesian_cased(language: str | None, cased: bool) -> bool:
    return language == "id" and cased


def _english_cased(language: str | None, cased: bool) -> bool:
    return language == "en" and cased


def _cased(language: str | None, cased: bool) -> bool:
    return cased


def _always(language: str | None, cased: bool) -> bool:
    return True


_Applies = Callable[[str | None, bool], bool]  # (language, cased) -> does the rule run here

# The rules on one model entity, in the order they run; a rule returns the corrected span, or None
# to drop it.
_ENTITY_RULES: list[tuple[_Applies, Callable[[Doc, _Span, _Around], _Span | None]]] = [
    (_always, _cut_opening_common_word),
    (_always, _relabel_by_the_whole_name),
    (_always, _extend_places),
    (_always, _drop_overlapped),
    (_english_cased, _trim_english_edges),
    (_always, _drop_trailing_rank),
    (_always, _drop_lone_non_name),
    (_indonesian, _drop_holidays_and_laws),
    (_cased, _drop_all_lower_case),
]

# The rules that read the whole text around the corrected model entities, in the order they run,
# each with where it applies.
_WHOLE_TEXT_RULES: list[tuple[_Applies, Callable[[Doc, list[_Span], str | None], list[_Span]]]] = [
    (_english, _known_places),  # capitalised ``Germany`` outside any entity is a place
    (_indonesian_cased, _places_of_offices),  # ``Gubernur [DKI Jakarta]``
    (_cased, _clubs_before_their_suffix),  # ``[Arema] FC``
    (_indonesian, _cited_outlets),  # ``dilansir [Marca]`` is an organisation
    (_cased, _hyphenated_given_names),  # ``Song Joong[-ki]``
    (_cased, _companies_by_legal_form),  # ``[Conocophilips Indonesia] Inc``
    (_always, _glued_abbreviations),  # ``Komisi Pemilihan Umum [(KPU)]`` in pre-tokenised text
    (_always, _titled_persons),  # ``Menteri Luar Negeri [Sonata Coulter]``
]
