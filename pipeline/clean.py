"""Clean: main text and metadata from a RawArticle, plus language.

HTML goes through trafilatura (main text, title, author, date, site name, canonical URL).
trafilatura leaves language empty, so it is identified here with py3langid unless the input
gave a hint.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import py3langid
from courlan import normalize_url
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from pipeline.dedup import article_id
from pipeline.records import Article, RawArticle, Rejection

_BLANKS = re.compile(r"\n{3,}")


def clean(raw: RawArticle, min_body_chars: int = 200, now: datetime | None = None) -> Article | Rejection:
    """One RawArticle -> Article, or a quarantine Rejection saying why not."""
    ingested_at = now or datetime.now(UTC)
    if raw.format == "html":
        extracted = _from_html(raw)
        if isinstance(extracted, Rejection):
            return extracted
        title, body, authors, site_name, url, published = extracted
    else:
        title, body = raw.title or "", _normalise_paragraphs(raw.content)
        authors, site_name, url, published = [], None, raw.url, raw.published_at
        if not title:
            first, _, rest = body.partition("\n\n")
            title, body = first.strip(), rest.strip()
    if len(body) < min_body_chars:
        return _quarantine(raw, f"main text too short ({len(body)} < {min_body_chars} characters)")
    if not title:
        return _quarantine(raw, "no title found")
    url = normalize_url(url, strict=True) if url else None
    return Article(
        id=article_id(url, title, body),
        input_id=raw.input_id,
        source=raw.source,
        url=url,
        title=title,
        body=body,
        authors=authors,
        site_name=site_name,
        published_at=published,
        language=raw.language or detect_language(f"{title}\n{body}"),
        ingested_at=ingested_at,
    )


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (py3langid, 97 languages)."""
    code, _score = py3langid.classify(text[:5000])
    return str(code)


def _from_html(
    raw: RawArticle,
) -> tuple[str, str, list[str], str | None, str | None, datetime | None] | Rejection:
    try:
        tree = load_html(raw.content)
        if tree is None:
            return _quarantine(raw, "not parseable as HTML")
        page_url = raw.url or _page_url(tree)
        doc = bare_extraction(
            tree,
            url=page_url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
        )
    except Exception as err:  # trafilatura raises assorted parser errors on hostile HTML
        return _quarantine(raw, f"HTML extraction failed: {type(err).__name__}: {err}")
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        return _quarantine(raw, "no main text found in HTML")
    title = (raw.title or doc.title or "").strip()
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    published = raw.published_at or _parse_date(doc.date)
    url = page_url or doc.url or None
    return (
        title,
        _normalise_paragraphs(doc.text or ""),
        authors,
        doc.sitename or None,
        url,
        published,
    )


def _page_url(tree: HtmlElement) -> str | None:
    """The page's own canonical URL. Unlike trafilatura, also outside <head>: broken markup
    often pushes <link rel=canonical> into the body when parsed."""
    for xpath, attr in (
        (".//link[@rel='canonical']", "href"),
        (".//meta[@property='og:url']", "content"),
    ):
        element = tree.find(xpath)
        value = (element.get(attr) or "").strip() if element is not None else ""
        if value.startswith(("http://", "https://")):
            return value
    return None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _normalise_paragraphs(text: str) -> str:
    """Paragraphs separated by one blank line, no trailing spaces."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _quarantine(raw: RawArticle, reason: str) -> Rejection:
    return Rejection(input_id=raw.input_id, stage="clean", outcome="quarantined", reason=reason)
