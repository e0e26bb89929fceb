"""Memory as the corpus grows: the whole pipeline over 5,000 and 50,000 articles.

    uv run python benchmarks/memory_scale.py [--sizes 5000,50000]

Same corpus and end-to-end run as ``throughput.py`` (real IndoSum texts and real HTML pages,
repeated with distinct URLs; ``run_all`` with one worker process per core, loading into the
local node), each size in a fresh subprocess so its peak resident memory is its own. Streaming
readers, bounded batches and a bounded near-duplicate window should keep the peaks flat.
Results: ``benchmarks/memory_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from throughput import build_corpus, end_to_end

from pipeline import es_local
from pipeline.settings import get_settings

OUT = Path(__file__).with_name("memory_scale.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000")
    args = parser.parse_args()
    es_local.start(get_settings())
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="warta-bench-mem-") as tmp:
            corpus = build_corpus(size, Path(tmp) / "corpus.jsonl")
            result = end_to_end(corpus, f"warta-bench-mem-{os.getpid()}-{size}")
        runs.append({"articles": size, **result})
        print(json.dumps(runs[-1]), flush=True)
    first, last = runs[0], runs[-1]
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "runs": runs,
        "peak_growth_main": round(last["peak_rss_mb_main"] / first["peak_rss_mb_main"] - 1, 3),
        "peak_growth_worker": round(last["peak_rss_mb_worker"] / first["peak_rss_mb_worker"] - 1, 3),
    }
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
