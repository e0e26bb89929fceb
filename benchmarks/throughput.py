"""Throughput benchmark: each stage alone, the whole pipeline, and how close it comes to the hardware.

    uv run python benchmarks/throughput.py [--sizes 1000,10000] [--stage-articles 1000] [--airflow]

Needs ../shared (real pages and the IndoSum corpus) and Java + Maven (it starts the local
Elasticsearch node at WARTA_ES_URL unless one answers). Prints a table and writes
``benchmarks/results.json``.

Input: a JSON-lines corpus of N articles, 3 of 4 IndoSum articles (text) and 1 of 4 real HTML
pages from ``../shared/data/extraction`` (cleaned by trafilatura). Every size shares the same
1,000 real articles; larger sizes repeat them under a ``.../copy-k`` URL path, so every input is a distinct
document and sizes differ only in count.

Measured, side by side in one run:
- each stage alone in one process on the first ``--stage-articles`` articles: clean
  (trafilatura + language ID), tag (NER), load (bulk into the real node); the CPU chain
  (clean + tag of a batch, exactly the `process` step) alone in one process;
- end to end (`pipeline.run.run_all`, the project's real parallel settings: one worker process
  per core) for each size, in a fresh subprocess so peak memory is its own;
- ratio = end-to-end rate / (cores x rate of the CPU chain alone).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pipeline.settings import INDOSUM_ARTICLES, PROJECT_ROOT, SHARED_DATA

ROOT = PROJECT_ROOT
SHARED = SHARED_DATA
RESULTS = Path(__file__).resolve().parent / "results.json"


def _html_pages() -> list[tuple[str, str]]:
    """(url, html) of the real pages, smallest first so the mix is not dominated by a few giants."""
    pages: list[tuple[str, str]] = []
    zyte = json.loads((SHARED / "extraction/zyte-dev/ground_truth.json").read_text())
    for page_id, gold in zyte.items():
        pages.append(
            (
                gold["url"],
                gzip.decompress((SHARED / f"extraction/zyte-dev/html/{page_id}.html.gz").read_bytes()).decode(
                    "utf-8", "replace"
                ),
            )
        )
    trafilatura = json.loads((SHARED / "extraction/trafilatura-eval/ground_truth.json").read_text())
    by_file = {Path(gold["html_gz"]).name: url for url, gold in trafilatura.items() if gold.get("html_gz")}
    for path in sorted((SHARED / "extraction/trafilatura-eval/html").glob("*.gz")):
        url = by_file.get(path.name) or f"https://trafilatura-eval.invalid/{path.stem}"
        pages.append((url, gzip.decompress(path.read_bytes()).decode("utf-8", "replace")))
    return pages


def _indosum() -> list[dict[str, Any]]:
    with INDOSUM_ARTICLES.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def build_corpus(size: int, out: Path, base_size: int = 1000) -> Path:
    """Write ``size`` distinct articles as JSON lines (deterministic).

    The first ``base_size`` articles are real and distinct; a larger corpus repeats them under a
    ``.../copy-k`` URL path (a query parameter would not do: URL canonicalisation drops unknown
    parameters, so the copies would collapse into duplicates), so every size has the same content
    mix and only the count differs (peak memory follows the largest page in a batch, so comparing
    sizes needs the same pages).
    """
    texts, pages = _indosum(), _html_pages()
    base: list[dict[str, Any]] = []
    for i in range(min(size, base_size)):
        if i % 4 == 3:
            url, html = pages[(i // 4) % len(pages)]
            base.append({"html": html, "url": url})
        else:
            row = texts[(i - i // 4) % len(texts)]
            base.append(
                {
                    "text": row["text"],
                    "title": row["slug"].replace("-", " "),
                    "url": row["url"],
                    "published_at": row["timestamp_from_id"],
                    "source": row["source"],
                }
            )
    with out.open("w", encoding="utf-8") as handle:
        for i in range(size):
            record, copy = dict(base[i % len(base)]), i // len(base)
            if copy:
                parts = urlsplit(record["url"])
                record["url"] = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/copy-{copy}"))
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def _rate(count: int, seconds: float, nbytes: int) -> dict[str, float]:
    return {
        "articles": count,
        "seconds": round(seconds, 2),
        "articles_per_s": round(count / seconds, 1),
        "mb_per_s": round(nbytes / seconds / 1e6, 3),
    }


def stages_alone(corpus: Path, settings: Any, index_name: str) -> dict[str, dict[str, float]]:
    """Each stage, and the CPU chain, alone in this process on the same articles."""
    from pipeline import clean, enrich, index, run, sources
    from pipeline.records import Article, RawArticle, TaggedArticle

    raws = [r for r in sources.read_inputs([corpus]) if isinstance(r, RawArticle)]
    raw_bytes = sum(len(r.content.encode("utf-8")) for r in raws)
    enrich.load_model(settings.ner_model)  # loading is not throughput
    results: dict[str, dict[str, float]] = {}

    started = time.perf_counter()
    cleaned = [
        a
        for a in (clean.clean(r, min_body_chars=settings.min_body_chars) for r in raws)
        if isinstance(a, Article)
    ]
    results["clean"] = _rate(len(raws), time.perf_counter() - started, raw_bytes)

    text_bytes = sum(len((a.title + a.body).encode("utf-8")) for a in cleaned)
    started = time.perf_counter()
    tagged: list[TaggedArticle] = list(enrich.tag_articles(cleaned, settings.ner_model))
    results["tag"] = _rate(len(cleaned), time.perf_counter() - started, text_bytes)

    # The CPU chain exactly as the pipeline runs it: the `process` step over batches, one process.
    # Measured before the load, whose background segment merges would slow it down.
    with tempfile.TemporaryDirectory(prefix="warta-bench-chain-") as tmp:
        folder = Path(tmp)
        batches = run.step_sources(folder, [corpus], settings)
        started = time.perf_counter()
        run.step_process_all(folder, batches, settings, workers=1)
        results["chain (clean+tag)"] = _rate(len(raws), time.perf_counter() - started, raw_bytes)

    client = index.connect(settings)
    try:
        index.ensure_index(client, index_name)
        started = time.perf_counter()
        with index.bulk_mode(client, index.write_alias(index_name)):
            loaded = index.bulk_load(
                client, index.write_alias(index_name), tagged, chunk_size=settings.bulk_chunk_size
            )
        results["load"] = _rate(loaded.indexed, time.perf_counter() - started, text_bytes)
    finally:
        index.drop(client, index_name)
        client.close()

    return results


def end_to_end(corpus: Path, index_name: str) -> dict[str, Any]:
    """run_all in a fresh subprocess; returns its timing and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "_e2e", str(corpus), index_name],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"end-to-end run failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _e2e_child(corpus: Path, index_name: str) -> None:
    from pipeline import index
    from pipeline.run import run_all
    from pipeline.settings import get_settings

    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="warta-bench-e2e-") as tmp:
        started = time.perf_counter()
        report = run_all([corpus], Path(tmp), settings, index_name=index_name)
        seconds = time.perf_counter() - started
    client = index.connect(settings)
    index.drop(client, index_name)
    client.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "inputs": report["inputs"],
                "indexed": report["indexed"],
                "seconds": round(seconds, 2),
                "articles_per_s": round(report["inputs"] / seconds, 1),
                "workers": settings.workers or os.cpu_count(),
                "peak_rss_mb_main": round(own, 1),
                "peak_rss_mb_worker": round(workers, 1),
            }
        )
    )


def airflow_vs_cli(index_name: str) -> dict[str, float]:
    """The seeds through `dag.test()` versus the same work through `run_all` (the CLI path)."""
    done = subprocess.run(
        [sys.executable, __file__, "_airflow", index_name], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"Airflow comparison failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _airflow_child(index_name: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="warta-bench-airflow-"))
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.run import run_all
    from pipeline.settings import get_settings

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["news_ingest"]
    seeds = [ROOT / "seeds"]
    run_all(seeds, home / "warm", get_settings(), index_name=index_name, workers=1)  # model load
    started = time.perf_counter()
    run_all(seeds, home / "cli", get_settings(), index_name=index_name, workers=1)
    cli = time.perf_counter() - started
    started = time.perf_counter()
    run = dag.test(logical_date=datetime(2025, 2, 27, tzinfo=UTC), run_conf={"index": index_name})
    dag_seconds = time.perf_counter() - started
    assert str(run.state) == "success", run.state
    print(json.dumps({"cli_seconds": round(cli, 2), "dag_test_seconds": round(dag_seconds, 2)}))


def _table(rows: list[tuple[str, ...]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        yield "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        if n == 0:
            yield "|" + "|".join("-" * (w + 2) for w in widths) + "|"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="end-to-end corpus sizes")
    parser.add_argument("--stage-articles", type=int, default=1000)
    parser.add_argument("--airflow", action="store_true", help="also time dag.test() against the CLI path")
    args = parser.parse_args()

    from pipeline import es_local
    from pipeline.settings import get_settings

    settings = get_settings()
    es_local.start(settings)
    cores = os.cpu_count() or 1
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {cores} cores, {memory_gib:.0f} GiB, "
        f"Python {platform.python_version()}, Elasticsearch at {settings.es_url}",
    }
    with tempfile.TemporaryDirectory(prefix="warta-bench-") as tmp:
        stage_corpus = build_corpus(args.stage_articles, Path(tmp) / "stage.jsonl")
        results["stages"] = stages_alone(stage_corpus, settings, "warta-bench-stages")
        chain = results["stages"]["chain (clean+tag)"]["articles_per_s"]
        results["end_to_end"] = {}
        for size in sizes:
            corpus = build_corpus(size, Path(tmp) / f"e2e-{size}.jsonl")
            e2e = end_to_end(corpus, f"warta-bench-e2e-{size}")
            e2e["ratio"] = round(e2e["articles_per_s"] / (cores * chain), 3)
            results["end_to_end"][str(size)] = e2e
            corpus.unlink()
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")  # keep what is measured so far
    if args.airflow:
        results["airflow_vs_cli"] = airflow_vs_cli("warta-bench-airflow")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    rows = [("measurement", "articles", "seconds", "articles/s", "MB/s")]
    for name, r in results["stages"].items():
        rows.append(
            (
                f"{name}, alone, 1 process",
                str(r["articles"]),
                str(r["seconds"]),
                str(r["articles_per_s"]),
                str(r["mb_per_s"]),
            )
        )
    for size, r in results["end_to_end"].items():
        rows.append(
            (f"end to end, {r['workers']} workers", size, str(r["seconds"]), str(r["articles_per_s"]), "")
        )
    print("\n".join(_table(rows)))
    print()
    rows = [("end-to-end size", "ratio e2e / (cores x chain)", "peak RSS main MB", "peak RSS worker MB")]
    for size, r in results["end_to_end"].items():
        rows.append((size, str(r["ratio"]), str(r["peak_rss_mb_main"]), str(r["peak_rss_mb_worker"])))
    print("\n".join(_table(rows)))
    if "airflow_vs_cli" in results:
        print(
            f"\nseeds through dag.test(): {results['airflow_vs_cli']['dag_test_seconds']} s; "
            f"through the CLI path: {results['airflow_vs_cli']['cli_seconds']} s"
        )
    print(f"\n{results['machine']}; written to {RESULTS}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_e2e":
        _e2e_child(Path(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "_airflow":
        _airflow_child(sys.argv[2])
    else:
        main()
