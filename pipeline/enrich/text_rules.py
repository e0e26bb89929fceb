"""The span rules that read the whole text around the model's corrected entities: each takes the
spans kept so far and returns them with some added, relabelled or cut (``spans._WHOLE_TEXT_RULES``
runs them in order, each where it applies)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.enrich.words import (
    _BRACKETED_ABBREVIATION,
    _COMPANY_SUFFIXES,
    _PORTFOLIO,
    _RANKS,
    _common_words,
    _day_names,
    _is_common_in_any_language,
    _is_common_word,
    _month_names,
    _name_word,
)
from pipeline.gazetteer import is_place

if TYPE_CHECKING:
    from spacy.tokens import Doc

_Span = tuple[int, int, str]  # start token, end token, label


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


# Regional offices, police commands and elections that name their region right after them
# (``Gubernur DKI Jakarta``, ``Wali Kota Malang``, ``Kapolda Jateng``, ``Pilkada DKI``).
_OFFICES_OF_A_PLACE = frozenset(
    str.split("gubernur wagub bupati walikota pemkot pemprov pemkab pilkada pilgub kapolda kapolres")
)


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
