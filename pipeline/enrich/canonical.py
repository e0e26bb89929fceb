"""Canonical names: one name per entity, per mention (the gazetteer's English place names, no
honorifics, no national suffix) and then per article (short forms, surnames, nicknames,
abbreviations and web addresses join the full name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pipeline.enrich.spans import entity_spans
from pipeline.enrich.words import (
    _BRACKETED_ABBREVIATION,
    _COMPANY_SUFFIXES,
    _HONORIFICS,
    _MENTION_CORE,
    _SPACE,
    LABELS,
    _given_names,
    _is_common_in_any_language,
    _name_word,
    known_nicknames,
)
from pipeline.gazetteer import canonical_place, is_place
from pipeline.records import Entity

if TYPE_CHECKING:
    from spacy.tokens import Doc


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
