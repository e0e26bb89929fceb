"""Entity-aware search against words alone: the same queries with and without entity matching, on
the seeds, IndoSum articles and the English Zyte pages (run from the project root, needs
../shared and a node at WARTA_ES_URL, e.g. `warta es start`):

    uv run python evaluation/entity_search.py [--indosum N] [--top K]

Ingests the articles through the pipeline into a fresh index, prints one Markdown table row per
query (matches and top hits, words only and with entities) and drops the index.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import uuid
from pathlib import Path

from pipeline import index
from pipeline.run import run_all
from pipeline.search import SearchResult, search
from pipeline.settings import INDOSUM_ARTICLES, PROJECT_ROOT, SHARED_DATA, get_settings

QUERIES = ("Russia", "Rusia", "Amerika Serikat", "AS", "Jokowi", "Joko Widodo", "KPK", "Inggris", "harga")


def _inputs(folder: Path, indosum: int) -> None:
    shutil.copytree(PROJECT_ROOT / "seeds", folder / "seeds")
    with INDOSUM_ARTICLES.open(encoding="utf-8") as src, (folder / "indosum.jsonl").open("w") as out:
        for line in list(src)[:indosum]:
            record = json.loads(line)
            title = record["url"].rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
            out.write(json.dumps({"url": record["url"], "title": title, "text": record["text"]}) + "\n")
    zyte = SHARED_DATA / "extraction" / "zyte-dev"
    truth = json.loads((zyte / "ground_truth.json").read_text(encoding="utf-8"))
    with (folder / "zyte.jsonl").open("w", encoding="utf-8") as out:
        for page_id, gold in truth.items():
            html = gzip.decompress((zyte / "html" / f"{page_id}.html.gz").read_bytes()).decode(
                "utf-8", "replace"
            )
            out.write(json.dumps({"url": gold["url"], "html": html}) + "\n")


def _by_language(result: SearchResult) -> str:
    counts = dict(result.facets.get("languages", []))
    return f"{result.total} ({counts.get('id', 0)} + {counts.get('en', 0)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indosum", type=int, default=300)
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()
    settings = get_settings()
    name = f"warta-entity-search-{uuid.uuid4().hex[:8]}"
    client = index.connect(settings)
    with tempfile.TemporaryDirectory(prefix="warta-entity-search-") as tmp:
        folder = Path(tmp)
        _inputs(folder / "inputs", args.indosum)
        report = run_all([folder / "inputs"], folder / "run", settings, index_name=name)
    try:
        print(f"{report['indexed']} articles indexed\n")
        print("| query | read as | matches (id + en), words only | with entities | top hits, with entities |")
        print("|---|---|---:|---:|---|")
        for query in QUERIES:
            before = search(client, name, query, size=args.top, facets=5, entity_match=False)
            after = search(client, name, query, size=args.top, facets=5)
            read = "; ".join(", ".join(f"{f}: {v}" for f, v in e.names) for e in after.entities)
            top = "<br>".join(f"{h.language}: {h.title[:40]}" for h in after.hits)
            print(
                f"| `{query}` | {read or 'words'} | {_by_language(before)} | {_by_language(after)} | {top} |"
            )
    finally:
        index.drop(client, name)
        client.close()


if __name__ == "__main__":
    main()
