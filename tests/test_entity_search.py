"""Entity-aware search: a query naming an entity finds the articles tagged with it in any language,
on the seed articles (and one written here) ingested through the real pipeline into a real node."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from pipeline import index
from pipeline.cli import app
from pipeline.run import run_all
from pipeline.search import search
from pipeline.settings import get_settings

INDONESIAN_SEED = "000_42c65bd1df09fd07.txt"  # Indonesian: writes Rusia and Amerika Serikat (AS)
ENGLISH_SEEDS = ("polygraph-russia-us-al-tanf.html", "reuters-asian-shares.html")  # Russia, U.S.
# An Indonesian article that names the president in full and never by his nickname.
WIDODO_ARTICLE = {
    "url": "https://berita.example.id/2026/12/presiden-resmikan-bendungan",
    "title": "Presiden Resmikan Bendungan di Jawa Tengah",
    "language": "id",
    "text": (
        "Presiden Joko Widodo meresmikan Bendungan Logung di Kabupaten Kudus, Jawa Tengah, pada "
        "Kamis pagi. Bendungan itu akan mengairi sawah seluas lima ribu hektare dan menyediakan air "
        "baku bagi warga sekitar. Dalam sambutannya, Joko Widodo meminta pemerintah daerah merawat "
        "saluran irigasi agar petani dapat menanam padi tiga kali setahun. Menteri Pekerjaan Umum "
        "Basuki Hadimuljono mengatakan pembangunan bendungan menelan biaya sekitar Rp 700 miliar."
    ),
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, es_node: str) -> Iterator[str]:
    """The index name: the seeds and the article above, ingested by the pipeline."""
    folder = tmp_path_factory.mktemp("entity-search")
    inputs = folder / "inputs"
    shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", inputs)
    (inputs / "widodo.jsonl").write_text(json.dumps(WIDODO_ARTICLE) + "\n", encoding="utf-8")
    name = f"warta-test-ent-{uuid.uuid4().hex[:8]}"
    report = run_all([inputs], folder / "run", get_settings(), index_name=name)
    assert report["reconciled"] and report["indexed"] >= 9
    yield name
    client = index.connect(get_settings())
    index.drop(client, name)
    client.close()


def _by_title(es: Elasticsearch, name: str, query: str, **kwargs: object) -> dict[str, list[dict[str, str]]]:
    """{title: matched entities} of every hit, with ``search`` options."""
    result = search(es, name, query, size=50, **kwargs)  # type: ignore[arg-type]
    return {h.title: h.matched_entities for h in result.hits}


def _title_of(es: Elasticsearch, name: str, input_name: str) -> str:
    hits = es.search(index=name, size=50, source_includes=["title", "input_id"])["hits"]["hits"]
    return next(h["_source"]["title"] for h in hits if h["_source"]["input_id"].endswith(input_name))


def test_russia_finds_the_indonesian_article_that_writes_rusia(seeded: str, es_client: Elasticsearch) -> None:
    seed = _title_of(es_client, seeded, INDONESIAN_SEED)
    english = {_title_of(es_client, seeded, name) for name in ENGLISH_SEEDS}
    before = _by_title(es_client, seeded, "Russia", entity_match=False)
    after = _by_title(es_client, seeded, "Russia")
    assert english <= set(before) and seed not in before  # the words alone miss it
    assert english <= set(after) and seed in after
    assert {"query": "Russia", "field": "locations", "value": "Russia"} in after[seed]
    # Typed in Indonesian, the English articles come too (their text says Russia, never Rusia).
    assert english <= set(_by_title(es_client, seeded, "Rusia"))


@pytest.mark.parametrize("query", ["Amerika Serikat", "AS"])
def test_the_indonesian_name_of_the_united_states_finds_the_english_articles(
    query: str, seeded: str, es_client: Elasticsearch
) -> None:
    english = {_title_of(es_client, seeded, name) for name in ENGLISH_SEEDS}
    before = _by_title(es_client, seeded, query, entity_match=False)
    after = _by_title(es_client, seeded, query)
    if query == "Amerika Serikat":  # (``AS`` is also the English word "as", which both contain)
        assert not english & set(before)
    assert english <= set(after)
    for title in english:
        assert after[title] == [{"query": query, "field": "locations", "value": "United States"}]


def test_a_nickname_finds_the_articles_that_use_the_full_name(seeded: str, es_client: Elasticsearch) -> None:
    title = WIDODO_ARTICLE["title"]
    assert title not in _by_title(es_client, seeded, "Jokowi", entity_match=False)
    after = _by_title(es_client, seeded, "Jokowi")
    assert after[title] == [{"query": "Jokowi", "field": "persons", "value": "Joko Widodo"}]


@pytest.mark.parametrize("query", ["bendungan", "saham", "as", "harga minyak"])
def test_words_that_name_no_entity_search_as_before(
    query: str, seeded: str, es_client: Elasticsearch
) -> None:
    before = search(es_client, seeded, query, size=50, entity_match=False)
    after = search(es_client, seeded, query, size=50)
    assert after.entities == []
    assert [(h.id, h.score) for h in after.hits] == [(h.id, h.score) for h in before.hits]
    assert after.total == before.total and all(h.matched_entities == [] for h in after.hits)


def test_an_entity_next_to_plain_words_needs_both(seeded: str, es_client: Elasticsearch) -> None:
    """``Rusia gandum`` (Russia, wheat): an article tagged Russia that never writes the word
    ``gandum`` does not match; the entity alone does not stand in for the other words."""
    seed = _title_of(es_client, seeded, INDONESIAN_SEED)
    assert seed in _by_title(es_client, seeded, "Russia")
    result = search(es_client, seeded, "Russia gandum", size=50)
    assert [e.text for e in result.entities] == ["Russia"]
    assert seed not in {h.title for h in result.hits}


def test_tagged_articles_rank_with_the_exact_phrase(seeded: str, es_client: Elasticsearch) -> None:
    """For ``Amerika Serikat``: every article tagged United States ranks above every article that
    is not, and the Indonesian article holding the phrase as well as the tag above the English
    articles that only carry the tag."""
    seed = _title_of(es_client, seeded, INDONESIAN_SEED)
    english = {_title_of(es_client, seeded, name) for name in ENGLISH_SEEDS}
    hits = search(es_client, seeded, "Amerika Serikat", size=50).hits
    tagged = [bool(h.matched_entities) for h in hits]
    assert tagged == sorted(tagged, reverse=True) and sum(tagged) >= 3
    ranked = [h.title for h in hits]
    assert all(ranked.index(seed) < ranked.index(title) for title in english)


def test_the_cli_says_which_entity_matched(seeded: str, es_node: str) -> None:
    result = CliRunner().invoke(app, ["search", "Rusia", "--index", seeded, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["entities"] == [{"query": "Rusia", "names": [{"field": "locations", "value": "Russia"}]}]
    assert all(h["matched_entities"] for h in answer["hits"])
    text = CliRunner().invoke(app, ["search", "Rusia", "--index", seeded])
    assert "also matches articles tagged locations 'Russia'" in text.output
    plain = CliRunner().invoke(app, ["search", "Rusia", "--index", seeded, "--text-only", "--json"])
    assert json.loads(plain.output)["entities"] == []


def test_or_and_not_keep_their_meaning_with_entities(seeded: str, es_client: Elasticsearch) -> None:
    def found(query: str) -> set[str]:
        return set(_by_title(es_client, seeded, query))

    assert found("Rusia OR bendungan") == found("Rusia") | found("bendungan")
    assert found("Rusia NOT Amerika Serikat") == found("Rusia") - found("Amerika") - found("Serikat")
    assert found("Rusia NOT AS") == found("Rusia") - found("AS")
    assert found("Rusia") - found("bendungan") and found("Rusia") & found("AS")


def test_the_kibana_saved_search_finds_the_entity_in_both_languages(
    seeded: str, es_client: Elasticsearch
) -> None:
    """The shipped saved search's KQL (``locations : "Russia"``; on a keyword field KQL asks for
    the exact value) finds the Indonesian article and the English ones."""
    from pipeline.kibana import saved_objects

    entity = next(o for o in saved_objects(seeded) if o["id"].endswith("-entity-any-language"))
    kql = json.loads(entity["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
    field, value = (part.strip().strip('"') for part in kql.split(":", 1))
    hits = es_client.search(index=seeded, query={"term": {field: value}}, size=50)["hits"]["hits"]
    inputs = {h["_source"]["input_id"].rsplit("/", 1)[-1] for h in hits}
    assert {INDONESIAN_SEED, *ENGLISH_SEEDS} <= inputs
