"""Canonical place names across languages, from CLDR (via Babel).

``Amerika Serikat``, ``AS`` and ``United States`` are one place; so are ``Rusia``/``Russia``,
``Moskow``/``Moscow`` and ``Turki``/``Turkey``/``Türkiye``. The canonical form is CLDR's English
name, so a Kibana aggregation counts a country once whatever the article's language.

Country and region names come from CLDR's territory names in English, Indonesian and Malay; city names from
CLDR's exemplar cities (time-zone cities). Babel does not carry CLDR's short and variant forms
(``AS``, ``US``, ``UK``, ``Turkey``) nor some common Indonesian exonyms (``Moskow``; CLDR has
``Moskwa``), nor ``DKI Jakarta``, the province that is the city of Jakarta (CLDR has the city),
so those few are listed in ALIASES below.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from zoneinfo import available_timezones

LOCALES = ("en", "id", "ms")

# Abbreviations and variants missing from Babel's CLDR data: alias -> ISO 3166 code ("city:" for
# cities). Case-sensitive: "AS" is the United States in Indonesian news, never American Samoa.
ALIASES: dict[str, str] = {
    "AS": "US",
    "US": "US",
    "U.S.": "US",
    "U.S": "US",
    "USA": "US",
    "U.S.A.": "US",
    "Amerika": "US",
    "America": "US",
    "UK": "GB",
    "U.K.": "GB",
    "Britain": "GB",
    "Great Britain": "GB",
    "Inggris": "GB",
    "Turkey": "TR",
    "Turkiye": "TR",
    "RI": "ID",
    "Republik Indonesia": "ID",
    "RRC": "CN",
    "Cina": "CN",
    "Korsel": "KR",
    "Korut": "KP",
    "UEA": "AE",
    "UAE": "AE",
    "DKI": "city:Jakarta",  # Daerah Khusus Ibukota: the province that is the city
    "DKI Jakarta": "city:Jakarta",
    "Moskow": "city:Moscow",
    "Beijing": "city:Beijing",
    "Peking": "city:Beijing",
    "Washington": "city:Washington",
    "Washington DC": "city:Washington",
    "Washington D.C.": "city:Washington",
}

# Cities that are capitals but not CLDR time-zone cities (so Babel has no names for them).
EXTRA_CITIES = ("Washington", "Beijing")


def _fold(name: str) -> str:
    """Case-, accent- and space-insensitive key ("Türkiye" == "turkiye")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, str], dict[str, str]]:
    """(folded localized name -> canonical, exact alias -> canonical), built once per process."""
    from babel import Locale
    from babel.dates import get_timezone_location

    english = Locale("en").territories
    # ISO countries and CLDR's numeric regions ("150" Europe, "021" Northern America); not the
    # codes that name organisations or placeholders (UN, EU, EZ) or private-use ones (Q*, X*, ZZ).
    countries: dict[str, str] = {
        str(code): str(english[code])
        for code in english
        if code not in {"UN", "EU", "EZ", "ZZ"} and not str(code).startswith(("Q", "X"))
    }
    names: dict[str, str] = {}
    for locale in LOCALES:
        territories = Locale(locale).territories
        for code, canonical in countries.items():
            if code in territories:
                names.setdefault(_fold(str(territories[code])), canonical)
    for zone in sorted(available_timezones()):
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "US/")):
            continue
        city_en = str(get_timezone_location(zone, locale="en", return_city=True))
        for locale in LOCALES:
            city = str(get_timezone_location(zone, locale=locale, return_city=True))
            # A city never overrides a country of the same name (e.g. "Singapore", "Djibouti").
            names.setdefault(_fold(city), city_en)
    for city in EXTRA_CITIES:
        names.setdefault(_fold(city), city)
    aliases = {
        alias: target.removeprefix("city:") if target.startswith("city:") else countries[target]
        for alias, target in ALIASES.items()
    }
    return names, aliases


def canonical_place(name: str) -> str | None:
    """CLDR's English name for a country or city mention in any supported language, or None."""
    names, aliases = _index()
    stripped = " ".join(name.split())
    alias = aliases.get(stripped)
    if alias is None and len(stripped) > 3 and stripped.isupper():
        alias = aliases.get(stripped.title())  # a headline's ``INGGRIS``; not ``AS`` -> ``As``
    return alias or names.get(_fold(stripped))


def is_place(name: str) -> bool:
    return canonical_place(name) is not None


# English adjectives of place: suffix -> endings that turn the stem back into a place name
# (``Argentin|ian`` -> ``Argentina``, ``Ital|ian`` -> ``Italy``, ``Russi|an`` -> ``Russia``).
_PLACE_SUFFIXES = (
    ("ian", ("", "a", "y", "ia")),
    ("ean", ("e",)),
    ("ese", ("", "a")),
    ("ish", ("ey", "and")),
    ("an", ("", "a", "o")),
    ("i", ("",)),
)


@lru_cache(maxsize=1)
def _official_language_names() -> frozenset[str]:
    """CLDR's English names of every territory's official languages (``French``, ``Arabic``,
    ``Dutch``): the demonyms no suffix rule derives."""
    from babel import Locale
    from babel.languages import get_official_languages

    english = Locale("en")
    return frozenset(
        str(english.languages[code])
        for territory in english.territories
        for code in get_official_languages(str(territory), de_facto=True)
        if code in english.languages
    )


@lru_cache(maxsize=4096)
def is_demonym(word: str) -> bool:
    """An English adjective of a country or region, or an official language's name
    (``American``, ``Argentinian``, ``Chinese``, ``French``): a nationality, not a name."""
    if not word[:1].isupper() or is_place(word):
        return False
    if word in _official_language_names():
        return True
    for suffix, endings in _PLACE_SUFFIXES:
        stem = word.removesuffix(suffix)
        if stem == word or len(stem) < 3:
            continue
        if any(is_place(stem + ending) for ending in endings):
            return True
    return False
