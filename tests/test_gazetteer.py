"""Canonical place names across Indonesian and English (CLDR via Babel, Indonesia's provinces via
pycountry, plus a few aliases)."""

from __future__ import annotations

import pytest

from pipeline.gazetteer import canonical_place, is_demonym


@pytest.mark.parametrize(
    ("names", "canonical"),
    [
        (["AS", "Amerika Serikat", "United States", "U.S."], "United States"),
        (["Rusia", "Russia", "RUSIA"], "Russia"),
        (["Inggris", "INGGRIS", "UK"], "United Kingdom"),  # a headline in capitals, an alias
        (["Moskow", "Moscow"], "Moscow"),
        (["Turki", "Turkey", "Türkiye", "Turkiye"], "Türkiye"),
        (["Tiongkok", "China", "Cina"], "China"),
        (["Arab Saudi", "Saudi Arabia"], "Saudi Arabia"),
        (["Ukraina", "Ukraine"], "Ukraine"),
        (["Eropa", "Europe"], "Europe"),
        (["Istanbul"], "Istanbul"),
        (["Jakarta", "DKI Jakarta", "DKI"], "Jakarta"),  # the province is the city
        # Indonesia's provinces and islands (ISO 3166-2 via pycountry, English names derived).
        (["Jawa Barat", "Jabar", "West Java", "JAWA BARAT"], "West Java"),
        (["Nusa Tenggara Timur", "NTT", "East Nusa Tenggara"], "East Nusa Tenggara"),
        (["Nusa Tenggara"], "Nusa Tenggara"),  # an island group, not "Southeast Nusa"
        (["Sulawesi Tenggara", "Sultra"], "Southeast Sulawesi"),
        (["Papua Barat Daya"], "Southwest Papua"),
        (["Kepulauan Riau", "Kepri"], "Riau Islands"),
        (["Jawa", "Java"], "Java"),
        (["Bali"], "Bali"),
    ],
)
def test_one_place_many_names(names: list[str], canonical: str) -> None:
    assert {canonical_place(n) for n in names} == {canonical}


def test_words_and_organisations_are_not_places() -> None:
    # Lower-case "as" is an Indonesian word; AS is American Samoa's ISO code but never meant so here.
    for name in ("as", "As", "Us", "Kremlin", "PBB", "UN", "EU", "Reuters", "Vladimir Putin"):
        assert canonical_place(name) is None, name


def test_demonyms_and_official_languages_are_not_names() -> None:
    for word in ("American", "Argentinian", "Italian", "Russian", "Chinese", "Israeli", "European", "French"):
        assert is_demonym(word), word
    # Names, places and words that only look derived (``Eastern`` is not from Easter Island,
    # the surname ``Malin`` not from Mali).
    for word in ("Brian", "Jordan", "Christian", "Eastern", "Malin", "Russia", "Putin", "american"):
        assert not is_demonym(word), word
