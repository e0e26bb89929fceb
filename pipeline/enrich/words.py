"""The word lists the entity rules and canonical names read: files in ``pipeline/models/`` (rebuilt
by ``warta train ner``) and the small constant sets of text shapes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

LABELS: frozenset[str] = frozenset({"PER", "ORG", "LOC"})
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
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


@lru_cache(maxsize=1)
def _day_names() -> frozenset[str]:
    from babel.dates import get_day_names

    return frozenset(str(name).lower() for name in get_day_names(locale="id").values())


@lru_cache(maxsize=1)
def _month_names() -> frozenset[str]:
    from babel.dates import get_month_names

    return frozenset(str(name).lower() for name in get_month_names(locale="id").values())


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


# Shapes and small sets that both the span rules and the canonical names read.

# The legal forms that end a company's name, in the case news writes them.
_COMPANY_SUFFIXES = frozenset(str.split("Inc Corp Corporation Ltd LLC GmbH Tbk Holdings Group Grup"))


# Ranks and honorifics that stand before a name, English and Indonesian; title case only, so the
# acronyms ``MS``, ``DR``, ``PAK`` stay. Not ``Sen`` (also a surname) nor ``H`` (also an initial).
_HONORIFICS = frozenset(
    str.split("""mr mrs ms dr prof lt col maj gen capt cmdr cdr sgt adm gov rep rev
    bapak pak ibu bu ir drs""")
)


# Police and military ranks, which follow the region in ``Kapolres Buru AKBP Leo Simatupang``.
_RANKS = frozenset(
    str.split("""akbp akp kombes kombespol irjen brigjen brigadir komisaris jenderal pol kompol iptu
    ipda aiptu mayjen letjen kolonel marsekal laksamana""")
)


_PORTFOLIO = re.compile(r"^(?:per|pe|ke)[a-z]{3,}an$")  # Perhubungan, Pekerjaan, Keuangan


def _name_word(text: str) -> bool:
    return text[:1].isupper() and text.isalpha() and not (len(text) > 1 and text.isupper())
