"""Entity tagging throughput in the pipeline's own path (`pipeline.enrich.tag_articles`).

    uv run python benchmarks/ner_throughput.py [--articles N] [--model DIR]

Tags N IndoSum articles (title + body, as the enrich step does) in one process, one thread, and
prints one JSON line: articles/s, tokens/s (spaCy tokens of title + body), MB/s of text. The first
batch is a warm-up (model load, first allocations) and is not timed. Needs ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pipeline.enrich import load_model, tag_articles
from pipeline.records import Article
from pipeline.settings import PROJECT_ROOT, get_settings

CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "corpus" / "indosum" / "articles.jsonl"


def load_articles(limit: int) -> list[Article]:
    now = datetime.now(UTC)
    articles = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            title = row["slug"].replace("-", " ")
            articles.append(
                Article(
                    id=row["id"],
                    input_id=row["id"],
                    source=row["source"],
                    title=title,
                    body=row["text"],
                    language="id",
                    ingested_at=now,
                )
            )
            if len(articles) >= limit:
                break
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--model", type=Path, default=get_settings().ner_model)
    args = parser.parse_args()
    articles = load_articles(args.articles + 64)
    warmup, timed = articles[:64], articles[64:]
    nlp = load_model(args.model)
    tokens = sum(len(nlp.tokenizer(a.title)) + len(nlp.tokenizer(a.body)) for a in timed)
    chars = sum(len(a.title) + len(a.body) for a in timed)
    list(tag_articles(warmup, args.model))
    started = time.perf_counter()
    entities = sum(len(t.entities) for t in tag_articles(timed, args.model))
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "benchmark": "ner_throughput",
                "articles": len(timed),
                "tokens": tokens,
                "entities": entities,
                "seconds": round(elapsed, 2),
                "articles_per_s": round(len(timed) / elapsed, 1),
                "tokens_per_s": round(tokens / elapsed),
                "mb_per_s": round(chars / elapsed / 1e6, 3),
                "model": str(args.model),
                "threads": os.environ["OMP_NUM_THREADS"],
                "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            }
        )
    )


if __name__ == "__main__":
    main()
