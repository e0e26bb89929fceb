"""Every article visible in Kibana: dates read from the text, and a time field every document has."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.clean import clean
from pipeline.dates import date_from_text
from pipeline.records import Article, RawArticle
from pipeline.run import run_all
from pipeline.settings import get_settings

REFERENCE = datetime(2025, 3, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Diplomat Rusia dan AS bertemu di Turki pada hari Kamis (27/2/2025) untuk", "id", date(2025, 2, 27)),
        ("JAKARTA, 27 Februari 2025 - Presiden meresmikan", "id", date(2025, 2, 27)),
        ("Jakarta, Kamis (27/2) - Presiden meresmikan", "id", date(2025, 2, 27)),  # year from the run
        ("Jakarta, Senin (30/12) - Presiden meresmikan", "id", date(2024, 12, 30)),  # ... the year before
        ("NEW YORK, Feb 27 (Reuters) - Asian shares fell on Thursday", "en", date(2025, 2, 27)),
        ("The deal signed on 27/2/2025 in Ankara", "en", date(2025, 2, 27)),  # 27 cannot be a month
        ("The deal signed on 3/2/2025 in Ankara", "en", None),  # March 2 or February 3: not guessed
        ("Kemarin presiden bertemu 41 tahun setelah perang", "id", None),  # relative, no date
        ("On Monday the talks resumed", "en", None),  # a weekday alone
        ("Jakarta, Senin (27/4) - rencana", "id", date(2024, 4, 27)),  # the latest year not after the run
        ("Jakarta, 27 April 2025 - rencana", "id", None),  # after the run: no publication date
    ],
)
def test_dates_read_from_the_text(text: str, language: str, expected: date | None) -> None:
    assert date_from_text(text, language, REFERENCE) == expected


def test_the_seed_is_dated_from_its_text_and_says_so(seeds_dir: Path) -> None:
    lines = (seeds_dir / "000_42c65bd1df09fd07.txt").read_text().splitlines()
    raw = RawArticle(
        input_id="seed", source="seeds", format="text", content="\n\n".join(lines[1:]), title=lines[0]
    )
    article = clean(raw, reference=REFERENCE)
    assert isinstance(article, Article)
    assert (article.published_at, article.published_on, article.date_source) == (
        None,
        date(2025, 2, 27),
        "text",
    )


def test_a_date_the_input_gives_wins_and_no_date_means_first_seen() -> None:
    body = "Harga beras di pasar induk naik dua persen pekan ini, kata pedagang pada Senin (24/2). " * 4
    given = RawArticle(
        input_id="a", source="s", format="text", content=body, title="Harga beras", published_at=REFERENCE
    )
    article = clean(given, reference=REFERENCE)
    assert isinstance(article, Article)
    assert (article.published_at, article.published_on, article.date_source) == (REFERENCE, None, "input")
    plain = RawArticle(
        input_id="b", source="s", format="text", content=body.replace("Senin (24/2)", "kemarin"), title="T"
    )
    undated = clean(plain, reference=REFERENCE)
    assert isinstance(undated, Article)
    assert (undated.published_at, undated.published_on, undated.date_source) == (None, None, "first_seen")


def test_every_document_has_the_time_field_and_first_seen_survives_a_rerun(
    seeds_dir: Path, es_client: Elasticsearch, index_name: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in seeds_dir.iterdir():
        if path.suffix in (".txt", ".html"):
            (folder / path.name).write_bytes(path.read_bytes())
    (folder / "undated.txt").write_text(
        "Jembatan baru untuk kota\n\n"
        + "Pemerintah kota mengumumkan rencana pembangunan jembatan baru di atas sungai. " * 4
    )
    run_all([folder], tmp_path / "run1", get_settings(), index_name=index_name, workers=1)
    es_client.indices.refresh(index=index_name)
    docs = {
        Path(h["_source"]["input_id"]).name: h["_source"]
        for h in es_client.search(index=index_name, size=50)["hits"]["hits"]
    }
    assert all(doc.get("timestamp") for doc in docs.values())  # Kibana shows every one
    seed = docs["000_42c65bd1df09fd07.txt"]
    assert (seed["date_source"], seed["published_on"], seed["timestamp"][:10]) == (
        "text",
        "2025-02-27",
        "2025-02-27",
    )
    assert "published_at" not in seed or seed["published_at"] is None
    reuters = docs["reuters-asian-shares.html"]
    assert reuters["date_source"] == "page" and reuters["timestamp"] == reuters["published_at"]
    undated = docs["undated.txt"]
    assert undated["date_source"] == "first_seen" and undated["timestamp"] == undated["first_seen_at"]
    # Ingested again later: first seen stays the first time.
    run_all([folder], tmp_path / "run2", get_settings(), index_name=index_name, workers=1)
    es_client.indices.refresh(index=index_name)
    (again,) = [
        h["_source"]
        for h in es_client.search(index=index_name, size=50)["hits"]["hits"]
        if h["_source"]["input_id"].endswith("undated.txt")
    ]
    assert (
        again["first_seen_at"] == undated["first_seen_at"] and again["ingested_at"] > undated["ingested_at"]
    )
    assert again["timestamp"] == undated["timestamp"]
