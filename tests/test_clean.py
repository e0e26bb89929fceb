"""Cleaning: main text, metadata and language, or a quarantine reason."""

from __future__ import annotations

from pathlib import Path

from pipeline.clean import clean, detect_language
from pipeline.records import Article, RawArticle, Rejection


def _raw(content: str, fmt: str = "text", **extra: object) -> RawArticle:
    return RawArticle(input_id="t", source="test", format=fmt, content=content, **extra)  # type: ignore[arg-type]


def test_text_article_keeps_paragraphs_and_detects_indonesian(seeds_dir: Path) -> None:
    lines = (seeds_dir / "000_42c65bd1df09fd07.txt").read_text().splitlines()
    article = clean(_raw("\n\n".join(lines[1:]), title=lines[0]))
    assert isinstance(article, Article)
    assert article.language == "id"
    assert article.title.startswith("Diplomat Rusia")
    assert article.body.count("\n\n") >= 10


def test_html_page_gets_metadata_and_english(seeds_dir: Path) -> None:
    html = (seeds_dir / "reuters-asian-shares.html").read_text()
    article = clean(_raw(html, fmt="html"))
    assert isinstance(article, Article)
    assert article.language == "en"
    assert article.url == "https://www.reuters.com/article/us-global-markets-idUSKBN1XT00W"
    assert article.site_name == "Reuters"
    assert article.published_at is not None and article.published_at.year == 2019
    assert "<" not in article.body and "Oil" in article.body


def test_short_or_empty_html_is_quarantined() -> None:
    result = clean(_raw("<html><body><nav><a href='/'>Home</a></nav></body></html>", fmt="html"))
    assert isinstance(result, Rejection) and result.outcome == "quarantined"
    short = clean(_raw("Sebuah kalimat pendek.", title="Judul"))
    assert isinstance(short, Rejection) and "too short" in short.reason


def test_language_hint_wins_over_detection() -> None:
    body = "Ini adalah berita panjang tentang ekonomi Indonesia. " * 10
    article = clean(_raw(body, title="Judul", language="ms"))
    assert isinstance(article, Article) and article.language == "ms"
    assert detect_language(body) == "id"
    assert detect_language("The central bank raised interest rates again on Tuesday.") == "en"
