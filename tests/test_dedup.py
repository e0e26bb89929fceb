"""Article identity: one article, one id, however its URL is dressed up."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.dedup import article_id, canonical_url, drop_duplicates
from pipeline.records import Article, Rejection


def test_canonical_url_strips_tracking_www_fragment_and_slash() -> None:
    a = canonical_url("https://WWW.Example.com/berita/123/?utm_source=x&utm_medium=y#komentar")
    b = canonical_url("https://example.com/berita/123")
    assert a == b == "https://example.com/berita/123"
    assert canonical_url("https://example.com/a?id=7") != canonical_url("https://example.com/a?id=8")


def test_query_parameters_that_identify_a_page_are_kept() -> None:
    """read.php?newsid=101 and ?newsid=102 are two articles; only known tracking names go."""
    keys = {
        canonical_url("https://news.example.id/read.php?newsid=101"),
        canonical_url("https://news.example.id/read.php?newsid=102"),
        canonical_url("https://news.example.id/read.php?newsid=103&utm_source=rss&fbclid=abc"),
    }
    assert keys == {f"https://news.example.id/read.php?newsid={n}" for n in (101, 102, 103)}
    assert canonical_url("https://detik.com/read.php?no=77") == "https://detik.com/read.php?no=77"
    assert canonical_url("https://x.id/a?b=2&a=1&gclid=z") == canonical_url("https://x.id/a?a=1&b=2")


def test_one_page_one_key_however_its_url_is_spelled() -> None:
    """Scheme, mobile/AMP editions, escapes of unreserved characters, dot segments, a trailing
    dot on the host and the default port do not make another page."""
    plain = canonical_url("https://example.com/berita/a-b")
    for variant in [
        "http://example.com/berita/a-b",
        "https://m.example.com/berita/a-b",
        "https://amp.example.com/berita/a-b",
        "https://mobile.example.com/berita/a-b",
        "https://example.com/berita/a%2Db",
        "https://example.com/./berita/x/../a-b",
        "https://example.com./berita/a-b",
        "https://EXAMPLE.com:443/berita/a-b/",
        "http://example.com:80/berita/a-b#top",
    ]:
        assert canonical_url(variant) == plain, variant
    # What names another page stays apart.
    assert canonical_url("https://example.com:8443/berita/a-b") != plain
    assert canonical_url("https://news.example.com/berita/a-b") != plain
    assert canonical_url("https://example.com/berita/A-B") != plain


def test_ids_come_from_url_or_normalised_text() -> None:
    assert article_id("https://www.example.com/x?utm_campaign=z", "A", "b") == article_id(
        "https://example.com/x", "Other title", "other body"
    )
    assert article_id(None, "Judul", "Isi  berita\n") == article_id(None, "judul", "isi berita")
    assert article_id(None, "Judul", "Isi berita") != article_id(None, "Judul", "Isi berita lain")


def test_later_copies_in_a_run_are_duplicates() -> None:
    now = datetime.now(UTC)
    make = lambda input_id, body: Article(  # noqa: E731
        id=article_id(None, "T", body),
        input_id=input_id,
        source="s",
        title="T",
        body=body,
        language="id",
        ingested_at=now,
    )
    out = list(drop_duplicates([make("a", "x"), make("b", "y"), make("c", "x")]))
    assert [type(o).__name__ for o in out] == ["Article", "Article", "Rejection"]
    dup = out[2]
    assert isinstance(dup, Rejection) and dup.outcome == "duplicate" and dup.reason == "same article as a"
