"""Near-duplicates grouped into stories: within a run, across runs through the index, and shown
once per story by search."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.dedup import STORY_THRESHOLD, Sketch, assign_stories, jaccard
from pipeline.records import TaggedArticle
from pipeline.run import run_all
from pipeline.search import search
from pipeline.settings import get_settings


def _seed_texts(seeds_dir: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (seeds_dir / "indosum-sample.jsonl").read_text().splitlines()]


def _republished(text: str) -> str:
    """What a second outlet does with wire copy: dateline, a dropped last sentence, a credit."""
    sentences = text.split(". ")
    return "JAKARTA, Tempo.co - " + ". ".join(sentences[:-1]) + ".\n\nBaca juga: berita lainnya.\n(tempo/red)"


def _article(article_id: str, body: str) -> TaggedArticle:
    return TaggedArticle(
        id=article_id,
        input_id=article_id,
        source="test",
        title=article_id,
        body=body,
        language="id",
        ingested_at=datetime.now(UTC),
    )


def test_copies_join_the_first_articles_story_and_others_do_not(seeds_dir: Path) -> None:
    first, other = (r["text"] for r in _seed_texts(seeds_dir)[:2])
    copy = _republished(first)
    assert jaccard(first, copy) > STORY_THRESHOLD > jaccard(first, other)
    assert Sketch.decode(Sketch.of(copy).encode()).similarity(Sketch.of(copy)) == 1.0
    stories = {
        a.id: a.story_id
        for a in assign_stories([_article("a", first), _article("b", other), _article("c", copy)])
    }
    assert stories == {"a": "a", "b": "b", "c": "a"}
    # The in-run memory is a window: a copy further back than the window is not seen in-run.
    far = [
        _article("a", first),
        *(_article(f"x{i}", f"lain {i} " * 40) for i in range(3)),
        _article("c", copy),
    ]
    assert {a.id: a.story_id for a in assign_stories(far, window=2)}["c"] == "c"
    assert {a.id: a.story_id for a in assign_stories(far, window=5)}["c"] == "a"


def test_stories_span_runs_and_search_shows_one_hit_each(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    records = _seed_texts(seeds_dir)
    (tmp_path / "agency").mkdir()
    (tmp_path / "agency" / "wire.jsonl").write_text(json.dumps(records[0]) + "\n")
    first = run_all([tmp_path / "agency"], tmp_path / "run1", get_settings(), index_name=index_name)
    original = es_client.search(index=index_name)["hits"]["hits"][0]
    assert original["_source"]["story_id"] == original["_id"]

    copy = dict(
        records[0],
        url="https://www.tempo.co/read/copy-of-the-wire-story",
        text=_republished(records[0]["text"]),
    )
    (tmp_path / "outlet").mkdir()
    (tmp_path / "outlet" / "copy.jsonl").write_text(json.dumps(copy) + "\n")
    run_all([tmp_path / "outlet"], tmp_path / "run2", get_settings(), index_name=index_name)
    es_client.indices.refresh(index=index_name)
    docs = {h["_id"]: h["_source"] for h in es_client.search(index=index_name)["hits"]["hits"]}
    assert len(docs) == 2 and {d["story_id"] for d in docs.values()} == {original["_id"]}

    words = " ".join(records[0]["text"].split()[3:6])
    every = search(es_client, index_name, words)
    once = search(es_client, index_name, words, one_per_story=True)
    assert (every.total, len(every.hits)) == (2, 2)
    assert (once.stories, len(once.hits)) == (1, 1)

    # Re-running the first input keeps its story; a reindex keeps every story.
    again = run_all([tmp_path / "agency"], tmp_path / "run3", get_settings(), index_name=index_name)
    assert again["indexed"] == first["indexed"] == 1
    from pipeline import index

    index.reindex(es_client, index_name)
    stories = {h["_source"]["story_id"] for h in es_client.search(index=index_name)["hits"]["hits"]}
    assert stories == {original["_id"]}
