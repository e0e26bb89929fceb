"""Entity tagging throughput in the pipeline's own path (`pipeline.enrich.tag_articles`).

    uv run python benchmarks/ner_throughput.py [--articles N] [--pairs P] [--model DIR]

Tags N IndoSum articles (title + body, as the enrich step does), one process, one thread, and
prints one JSON line per run: articles/s, tokens/s (spaCy tokens of title + body), MB/s of text.
The first batch is a warm-up (model load, first allocations) and is not timed. The model load is
timed on its own (``load_s``): a per-batch task process pays it once per 100 articles. Tokens are
counted inside a memory zone, so counting does not leave the timed texts' words in the vocabulary.

Side by side in one invocation: P pairs of fresh processes, alternating, each pair one run of
the pipeline's path (``warta``) and one of the same path with the model as plain ``spacy.load``
gives it (``spacy``: thinc's bundled BLIS for matrix products and spaCy's prefix ``search``,
before ``load_model`` chose numpy's OpenBLAS and anchored prefixes and built the tokenizer itself).
The last line is the summary: median tokens/s and load seconds of each arm, the tokens/s ratio,
and whether both tagged the same number of entities. Needs ../shared.

``--side-by-side`` runs each pair's two processes at the same time instead, one pinned to each
of the first two cores (``os.sched_setaffinity``), swapping cores every pair. On a shared host
whose speed drifts by ±20% from one minute to the next (as on 2026-11-29), both arms then meet the
same drift, so their ratio is steadier than sequential runs give; it is also how two Warta
workers run. Its absolute numbers are those of a fully loaded machine.

``--against OTHER_MODEL`` compares two models instead, both in the pipeline's path: the second
arm (``against``) tags with OTHER_MODEL, so a retrained model's speed is measured side by side
with the one it replaces (``ratio``: the model's tokens/s over the other's).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pipeline.records import Article
from pipeline.settings import INDOSUM_ARTICLES, get_settings

CORPUS = INDOSUM_ARTICLES


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


def measure(articles_n: int, model: Path, arm: str) -> dict[str, object]:
    import spacy  # imported before ``load_s`` starts, in both arms: it times the load alone

    if arm == "spacy":
        import pipeline.enrich as enrich
        import pipeline.enrich.tagging as tagging

        # The baseline arm: the same tagging path, the model loaded without Warta's speed choices.
        # Replaced where tag_articles looks it up (its module), not only on the package.
        enrich.load_model = tagging.load_model = lru_cache(maxsize=2)(spacy.load)
    from pipeline.enrich import load_model, tag_articles

    articles = load_articles(articles_n + 64)
    warmup, timed = articles[:64], articles[64:]
    loading = time.perf_counter()
    nlp = load_model(model)
    load_s = time.perf_counter() - loading
    with nlp.memory_zone():
        tokens = sum(len(nlp.tokenizer(a.title)) + len(nlp.tokenizer(a.body)) for a in timed)
    chars = sum(len(a.title) + len(a.body) for a in timed)
    list(tag_articles(warmup, model))
    started = time.perf_counter()
    entities = sum(len(t.entities) for t in tag_articles(timed, model))
    elapsed = time.perf_counter() - started
    return {
        "benchmark": "ner_throughput",
        "arm": arm,
        "articles": len(timed),
        "tokens": tokens,
        "entities": entities,
        "seconds": round(elapsed, 2),
        "articles_per_s": round(len(timed) / elapsed, 1),
        "tokens_per_s": round(tokens / elapsed),
        "mb_per_s": round(chars / elapsed / 1e6, 3),
        "load_s": round(load_s, 2),
        "model": str(model),
        "threads": os.environ["OMP_NUM_THREADS"],
        "cores": sorted(os.sched_getaffinity(0)),  # one when pinned (--side-by-side)
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--model", type=Path, default=get_settings().ner_model)
    parser.add_argument("--arm", choices=["warta", "spacy"], help="one run in this process")
    parser.add_argument("--cpu", type=int, help="pin this process to one core (with --arm)")
    parser.add_argument("--side-by-side", action="store_true", help="each pair's arms at once, one per core")
    parser.add_argument("--against", type=Path, help="second arm: the pipeline's path with this model")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.side_by_side and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--side-by-side needs two cores")
    if args.arm:
        print(json.dumps(measure(args.articles, args.model, args.arm)))
        return
    second = "against" if args.against else "spacy"
    rates: dict[str, list[int]] = {"warta": [], second: []}
    loads: dict[str, list[float]] = {"warta": [], second: []}
    entities: dict[str, set[int]] = {"warta": set(), second: set()}
    run_of = {  # arm label -> this script's arguments for it
        "warta": ["--arm", "warta", "--model", str(args.model)],
        "spacy": ["--arm", "spacy", "--model", str(args.model)],
        "against": ["--arm", "warta", "--model", str(args.against)],
    }
    for pair in range(args.pairs):
        arms = ("warta", second) if pair % 2 == 0 else (second, "warta")
        commands = [
            [sys.executable, __file__, *run_of[arm], "--articles", str(args.articles)] for arm in arms
        ]
        if args.side_by_side:
            commands = [[*command, "--cpu", str(cpu)] for cpu, command in enumerate(commands)]
            running = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for command in commands]
            outputs = [process.communicate()[0] for process in running]
            if any(process.returncode for process in running):
                raise SystemExit("a side-by-side run failed")
        else:
            outputs = [subprocess.run(c, check=True, capture_output=True, text=True).stdout for c in commands]
        for arm, output in zip(arms, outputs, strict=True):
            run = json.loads(output)
            print(json.dumps(run))
            rates[arm].append(int(run["tokens_per_s"]))
            loads[arm].append(float(run["load_s"]))
            entities[arm].add(int(run["entities"]))
    warta, baseline = statistics.median(rates["warta"]), statistics.median(rates[second])
    summary = {
        "summary": "ner_throughput",
        "pairs": args.pairs,
        "side_by_side": args.side_by_side,
        "model": str(args.model),
        **({"against": str(args.against)} if args.against else {}),
        "warta_tokens_per_s": rates["warta"],
        f"{second}_tokens_per_s": rates[second],
        "median_warta": warta,
        f"median_{second}": baseline,
        "ratio": round(warta / baseline, 2),
        "median_load_s_warta": round(statistics.median(loads["warta"]), 2),
        f"median_load_s_{second}": round(statistics.median(loads[second]), 2),
        "same_entity_count": entities["warta"] == entities[second] and len(entities["warta"]) == 1,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
