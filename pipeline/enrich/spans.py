"""The span rules: the model's entities corrected, in one function (``entity_spans``) that
``warta eval ner`` scores on the dev sets, so every rule is measured (MODEL_CARD.md, "What was
tried"). Rules on single entities run inside its loop; the rules that read the whole text run
after it, in the order of ``_WHOLE_TEXT_RULES`` at the end of this file, each with where it
applies and the example it fixes (``scripts/rule_ablation.py`` measures each one's worth).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.enrich.words import (
    _BRACKETED_ABBREVIATION,
    _QUOTES,
    _common_words,
    _day_names,
    _entity_first_words,
    _is_common_in_any_language,
    _is_common_word,
    _month_names,
)
from pipeline.gazetteer import is_demonym, is_place

if TYPE_CHECKING:
    from spacy.tokens import Doc

_Span = tuple[int, int, str]  # start token, end token, label

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


# Legal forms that never end anything but a company's name (not ``Group``: ``Grup B`` is a round).
_LEGAL_FORMS = _COMPANY_SUFFIXES - {"Group", "Grup"}


def _companies_by_legal_form(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _hyphenated_given_names(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _cited_outlets(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _places_of_offices(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _glued_abbreviations(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _titled_persons(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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


def _name_word(text: str) -> bool:
    return text[:1].isupper() and text.isalpha() and not (len(text) > 1 and text.isupper())


def _covered(spans: list[tuple[int, int, str]]) -> set[int]:
    """The token positions inside any of ``spans``."""
    return {i for start, end, _ in spans for i in range(start, end)}


def _known_places(
    doc: Doc, spans: list[tuple[int, int, str]], language: str | None
) -> list[tuple[int, int, str]]:
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
