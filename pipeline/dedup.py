"""Article identity and exact duplicates.

An article's id is derived, never random, so re-running an input overwrites the same
Elasticsearch document instead of adding a copy: from the canonical URL when there is one,
otherwise from the normalised title and text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

from pipeline.records import Article, Rejection

_SPACE = re.compile(r"\s+")
A = TypeVar("A", bound=Article)


def canonical_url(url: str) -> str:
    """Tracking parameters, fragment, ``www.`` and trailing slash removed; scheme and host lower-cased."""
    normalised = normalize_url(url, strict=True, trailing_slash=False)
    parts = urlsplit(normalised)
    host = parts.netloc.removeprefix("www.")
    return urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))


def normalise_text(text: str) -> str:
    """Case-, width- and whitespace-insensitive form of a text, for content hashing."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def article_id(url: str | None, title: str, body: str) -> str:
    key = f"url:{canonical_url(url)}" if url else f"text:{normalise_text(title)}\n{normalise_text(body)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def drop_duplicates(articles: Iterable[A]) -> Iterator[A | Rejection]:
    """Pass each id once; later copies in the same run become ``duplicate`` rejections."""
    first_input: dict[str, str] = {}
    for article in articles:
        seen = first_input.setdefault(article.id, article.input_id)
        if seen == article.input_id:
            yield article
        else:
            yield Rejection(
                input_id=article.input_id,
                stage="dedup",
                outcome="duplicate",
                reason=f"same article as {seen}",
                article_id=article.id,
            )
