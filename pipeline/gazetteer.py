"""Canonical place names across languages, from CLDR (via Babel).

``Amerika Serikat``, ``AS`` and ``United States`` are one place; so are ``Rusia``/``Russia``,
``Moskow``/``Moscow`` and ``Turki``/``Turkey``/``Türkiye``. The canonical form is CLDR's English
name, so a Kibana aggregation counts a country once whatever the article's language.

Country and region names come from CLDR's territory names in English, Indonesian and Malay; city names from
CLDR's exemplar cities (time-zone cities). Babel does not carry CLDR's short and variant forms
(``AS``, ``US``, ``UK``, ``Turkey``) nor some common Indonesian exonyms (``Moskow``; CLDR has
``Moskwa``), nor ``DKI Jakarta``, the province that is the city of Jakarta (CLDR has the city),
so those few are listed in ALIASES below.

Indonesia's provinces and main islands come from ISO 3166-2 through pycountry (below).
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

# Indonesia's provinces and main islands come from ISO 3166-2 (pycountry), which names them in
# Indonesian (``Jawa Barat``). CLDR has no subdivisions; their English names follow from the
# Indonesian ones word by word (``Jawa Barat`` -> ``West Java``), and the English name is canonical,
# as it is for countries. Jakarta's (``Jakarta Raya``) is the city above.
SUBDIVISIONS_LEFT_OUT = frozenset({"ID-JK"})
_ISLANDS_IN_ENGLISH = {"Jawa": "Java", "Sumatera": "Sumatra"}
_COMPASS_IN_ENGLISH = {
    "Barat Daya": "Southwest",
    "Tenggara": "Southeast",
    "Barat": "West",
    "Timur": "East",
    "Utara": "North",
    "Selatan": "South",
    "Tengah": "Central",
}
# The short names Indonesian news writes for provinces (not in ISO 3166-2): alias -> ISO code.
PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "Jabar": "ID-JB",
    "Jateng": "ID-JT",
    "Jatim": "ID-JI",
    "DIY": "ID-YO",
    "Sumut": "ID-SU",
    "Sumbar": "ID-SB",
    "Sumsel": "ID-SS",
    "Kepri": "ID-KR",
    "Kalbar": "ID-KB",
    "Kalteng": "ID-KT",
    "Kalsel": "ID-KS",
    "Kaltim": "ID-KI",
    "Kaltara": "ID-KU",
    "Sulut": "ID-SA",
    "Sulteng": "ID-ST",
    "Sulsel": "ID-SN",
    "Sultra": "ID-SG",
    "Sulbar": "ID-SR",
    "NTB": "ID-NB",
    "NTT": "ID-NT",
}


def subdivision_in_english(name: str, islands: frozenset[str] = frozenset()) -> str:
    """``Jawa Barat`` -> ``West Java``, ``Sulawesi Tenggara`` -> ``Southeast Sulawesi``,
    ``Papua Barat Daya`` -> ``Southwest Papua``, ``Kepulauan Riau`` -> ``Riau Islands``: a compass
    word after one of ``islands`` (``Nusa Tenggara`` is one, not "southeast Nusa"); a name
    without one stays (``Bali``)."""
    if name.startswith("Kepulauan "):
        return name.removeprefix("Kepulauan ") + " Islands"
    for compass, english in _COMPASS_IN_ENGLISH.items():
        island = name.removesuffix(" " + compass)
        if island != name and island in islands:
            return f"{english} {_ISLANDS_IN_ENGLISH.get(island, island)}"
    return _ISLANDS_IN_ENGLISH.get(name, name)


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, tuple[str, str]]:
    """ISO 3166-2 code -> (Indonesian name, English name) of Indonesia's provinces and main
    islands (pycountry)."""
    import pycountry

    found = [(str(s.code), str(s.name), str(s.type)) for s in pycountry.subdivisions.get(country_code="ID")]  # type: ignore[no-untyped-call]
    islands = frozenset(name for _, name, kind in found if kind == "Geographical unit")
    return {
        code: (name, subdivision_in_english(name, islands))
        for code, name, _ in found
        if code not in SUBDIVISIONS_LEFT_OUT
    }


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
    for local_name, english_name in subdivisions().values():
        names.setdefault(_fold(local_name), english_name)  # a country or city of the same name wins
        names.setdefault(_fold(english_name), english_name)
    aliases = {
        alias: target.removeprefix("city:") if target.startswith("city:") else countries[target]
        for alias, target in ALIASES.items()
    }
    aliases.update({alias: subdivisions()[code][1] for alias, code in PROVINCE_ABBREVIATIONS.items()})
    return names, aliases


@lru_cache(maxsize=65536)  # the rules ask about the same few thousand names again and again
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
