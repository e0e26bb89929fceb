"""Publication dates read from an article's own text, for articles whose input and page give none.

Newswire text says when in its dateline or first sentence: ``JAKARTA, 27 Februari 2025``,
``Kamis (27/2/2025)``, ``Kamis (27/2)``, ``NEW YORK, Nov 19 (Reuters)``. dateparser's
``search_dates`` finds them (its data knows Indonesian and English day and month names and
numeric forms); what is taken from its matches:

- only the first ``FIRST_CHARS`` characters are read (the dateline and the first sentences):
  dates further down are mostly other events;
- a match must name a day by its number and a month (``27/2``, ``27 Februari``, ``Nov 19``);
  ``kemarin``, ``41 tahun`` (years ago), ``today`` or a weekday alone name no date;
- Indonesian numeric dates are day/month/year (``27/2/2025``); in English text a numeric date is
  taken only when it cannot be read two ways (``19/11/2019``), never guessed (``3/4/2025`` gives
  none);
- a date without a year takes the latest year that puts it on or before ``reference`` (the run's
  data interval end, or the file's time), and a date more than a day after ``reference`` is no
  publication date;
- the result is a date, never a time: the text does not say the hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from pipeline.records import Article

A = TypeVar("A", bound=Article)

FIRST_CHARS = 1200
LANGUAGES = {"id", "en", "ms"}  # read for dates; other languages are not guessed at
_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_DAY_MONTH = re.compile(
    r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\b"  # 27/2, 27/2/2025, 03-07
    r"|\b\d{1,2}\s+(?:jan|feb|mar|apr|mei|may|jun|jul|agu|aug|sep|okt|oct|nov|des|dec)[a-z]*\.?"
    r"|\b(?:jan|feb|mar|apr|mei|may|jun|jul|agu|aug|sep|okt|oct|nov|des|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=8)
def _settings(language: str, reference: datetime) -> dict[str, Any]:
    return {
        "DATE_ORDER": "MDY" if language == "en" else "DMY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": reference.replace(tzinfo=None),
        "REQUIRE_PARTS": ["day", "month"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


def date_from_text(
    text: str, language: str, reference: datetime, first_chars: int = FIRST_CHARS
) -> date | None:
    """The publication date the text's opening states, or None (see the module doc for the rules)."""
    if language not in LANGUAGES:
        return None
    from dateparser.search import search_dates  # heavy import: only when a date is looked for

    head = text[:first_chars]
    found = search_dates(head, languages=[language], settings=_settings(language, reference))
    for phrase, moment in found or []:
        if not _DAY_MONTH.search(phrase) or _ambiguous(phrase, language):
            continue
        day: date = moment.date()
        if not _YEAR.search(phrase):  # the year is the reference's, or the one before
            day = _latest_on_or_before(day, reference.date())
        if day > reference.date() + timedelta(days=1):
            continue
        return day
    return None


def _ambiguous(phrase: str, language: str) -> bool:
    """An English numeric date whose day and month could swap (3/4/2025)."""
    if language != "en":
        return False
    match = _NUMERIC.search(phrase)
    if match is None:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    return first <= 12 and second <= 12 and first != second


def _latest_on_or_before(day: date, reference: date) -> date:
    for year in (reference.year, reference.year - 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February
            continue
        if candidate <= reference + timedelta(days=1):
            return candidate
    return day


# The stored documents ``backfill`` would date: neither a publication time nor a day.
UNDATED_QUERY: dict[str, Any] = {
    "bool": {"must_not": [{"exists": {"field": "published_at"}}, {"exists": {"field": "published_on"}}]}
}


def backfill(articles: Iterable[A]) -> Iterator[A]:
    """Articles indexed before text dates existed (``date_source`` first seen, no date): dated from
    their text now, as cleaning would (reference: when they were ingested). For ``warta reindex``."""
    for article in articles:
        if article.published_at is None and article.published_on is None:
            found = date_from_text(article.body, article.language, article.ingested_at)
            if found is not None:
                article = article.model_copy(update={"published_on": found, "date_source": "text"})
        yield article
