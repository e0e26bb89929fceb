"""Index scale benchmark: 100,000 articles into the local node, then typical searches with facets.

    uv run python benchmarks/index_scale.py [--articles 100000] [--real 1000]

Real IndoSum articles (``../shared/data/corpus/indosum``) are cleaned and tagged once by the
pipeline's own stages; the load then repeats them with variation (a new id and URL, publication
time spread over two years) up to ``--articles``, through the pipeline's bulk loader into a fresh
versioned index behind its aliases (refreshes off during the load, as in a run). Reported:
indexing rate, index size per article, and client-side latency (p50/p95, plus Elasticsearch's own
``took``) for five typical searches, each with facets. Repeated text compresses better than a
real corpus of that size, so the size per article is a lower bound; the note says so.

Results go to ``benchmarks/index_scale.json``; the numbers are copied into RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import clean, enrich, es_local, index
from pipeline.records import RawArticle, TaggedArticle
from pipeline.search import SearchFilters, search
from pipeline.settings import INDOSUM_ARTICLES, get_settings

INDOSUM = INDOSUM_ARTICLES
OUT = Path(__file__).with_name("index_scale.json")


def real_articles(count: int, model: Path) -> list[TaggedArticle]:
    raws = []
    with INDOSUM.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if len(raws) == count:
                break
            record = json.loads(line)
            slug = record["url"].split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
            raws.append(
                RawArticle(
                    input_id=f"indosum:{number}",
                    source=record["source"],
                    format="text",
                    title=slug.capitalize(),
                    content=record["text"],
                    url=record["url"],
                    language="id",
                )
            )
    cleaned = [a for r in raws if not hasattr(a := clean.clean(r), "stage")]
    return list(enrich.tag_articles(cleaned, model))  # type: ignore[arg-type]


def variants(articles: list[TaggedArticle], total: int) -> Iterator[TaggedArticle]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(total):
        a = articles[i % len(articles)]
        yield a.model_copy(
            update={
                "id": hashlib.sha256(f"variant:{i}".encode()).hexdigest()[:32],
                "input_id": f"{a.input_id}#{i}",
                "url": f"{a.url}?v={i}",
                "published_at": start + timedelta(minutes=(i * 7919) % (2 * 365 * 24 * 60)),
            }
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40, help="runs of each search")
    args = parser.parse_args()

    settings = get_settings()
    es_local.start(settings)
    name = f"warta-bench-scale-{os.getpid()}"
    client = index.connect(settings)
    try:
        started = time.perf_counter()
        real = real_articles(args.real, settings.ner_model)
        prepare_s = time.perf_counter() - started

        concrete = index.ensure_index(client, name)
        started = time.perf_counter()
        with index.bulk_mode(client, index.write_alias(name)):
            loaded = index.bulk_load(
                client,
                index.write_alias(name),
                variants(real, args.articles),
                chunk_size=settings.bulk_chunk_size,
            )
        load_s = time.perf_counter() - started
        assert loaded.indexed == args.articles and not loaded.rejected
        stats = client.indices.stats(index=concrete, metric="store,docs")["indices"][concrete]["primaries"]
        size = int(stats["store"]["size_in_bytes"])

        person = search(client, name, "", size=0, facets=1).facets["persons"][0][0]
        place = search(client, name, "", size=0, facets=1).facets["locations"][0][0]
        queries: dict[str, tuple[str, SearchFilters, bool]] = {
            "words": ("harga minyak", SearchFilters(), False),
            "stemmed word": ("pembangunan", SearchFilters(), False),
            "phrase": ('"presiden joko widodo"', SearchFilters(), False),
            "entity filter": ("", SearchFilters(persons=(person,), locations=(place,)), False),
            "date range, one per story": (
                "pemerintah",
                SearchFilters(
                    published_from=datetime(2024, 6, 1, tzinfo=UTC),
                    published_to=datetime(2024, 9, 1, tzinfo=UTC),
                ),
                True,
            ),
        }
        latency: dict[str, Any] = {}
        for label, (query, filters, per_story) in queries.items():
            search(client, name, query, filters, size=10, facets=10, one_per_story=per_story)  # warm
            times = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                result = search(client, name, query, filters, size=10, facets=10, one_per_story=per_story)
                times.append((time.perf_counter() - t0) * 1000)
            latency[label] = {
                "query": query,
                "matches": result.total,
                "p50_ms": round(percentile(times, 0.50), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
            }
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "es_heap": settings.es_heap,
            },
            "articles": args.articles,
            "distinct_real_articles": len(real),
            "prepare_seconds (clean+tag of the real ones)": round(prepare_s, 1),
            "load_seconds": round(load_s, 1),
            "index_rate_articles_per_s": round(args.articles / load_s, 1),
            "index_bytes": size,
            "bytes_per_article": round(size / args.articles),
            "segments_note": "size as loaded (after the final refresh, before any force-merge)",
            "search_latency_with_10_facets": latency,
        }
        OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(results, indent=2, ensure_ascii=False))
    finally:
        index.drop(client, name)
        client.close()


if __name__ == "__main__":
    main()
