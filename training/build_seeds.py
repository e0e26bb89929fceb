"""Rebuild seeds/ from ../shared (run from the project root: `uv run python training/build_seeds.py`).

Copies the seed article, a handful of IndoSum articles (as JSON lines and one plain-text file)
and two English pages of the Zyte article-extraction benchmark (as HTML). See seeds/SOURCES.md.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from pipeline.settings import INDOSUM_ARTICLES

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"

INDOSUM_IDS = [
    "1510015773-setnov-mangkir-lagi-alasannya-tak-ada-izin-preside",
    "1503743409-mendagri-apresiasi-kepolisian-bongkar-soal-saracen",
    "1502737800-garry-kasparov-si-dewa-catur-turun-gunung",
    "1518565800-ratu-belanda-siap-bantu-inklusi-keuangan-indonesia",
    "1503131069-mentan-indonesia-swasembada-bawang-merah",
]
INDOSUM_AS_TEXT = "1490674536-mustahil-transportasi-tradisional-dan-online-bersa"
ZYTE_IDS = {
    "polygraph-russia-us-al-tanf.html": "1ee91d1fce65e09be8b8d2d29eab771546d98ca2ba5c862941e660e9fec12432",
    "reuters-asian-shares.html": "57d46c9d751e3fd3ffaf3ede7ac20cebd30eacb5ea78e1a6aa0a72059244e7ca",
}


def title_from_url(url: str) -> str:
    """IndoSum has no titles; the URL slug is the publisher's own headline, lower-cased."""
    slug = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    words = slug.replace("-", " ").split()
    return " ".join(w.capitalize() for w in words)


def main() -> None:
    SEEDS.mkdir(exist_ok=True)
    for seed in sorted((SHARED / "seeds").glob("*.txt")):
        shutil.copyfile(seed, SEEDS / seed.name)
    rows = {}
    with INDOSUM_ARTICLES.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows[row["id"]] = row
    with (SEEDS / "indosum-sample.jsonl").open("w", encoding="utf-8") as out:
        for article_id in INDOSUM_IDS:
            row = rows[article_id]
            record = {
                "url": row["url"],
                "title": title_from_url(row["url"]),
                "text": row["text"],
                "published_at": row["timestamp_from_id"],
                "language": "id",
                "source": row["source"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    row = rows[INDOSUM_AS_TEXT]
    (SEEDS / "indosum-kumparan-zulkifli.txt").write_text(
        title_from_url(row["url"]) + "\n" + row["text"] + "\n", encoding="utf-8"
    )
    for name, page_id in ZYTE_IDS.items():
        html = gzip.decompress((SHARED / f"data/extraction/zyte-dev/html/{page_id}.html.gz").read_bytes())
        (SEEDS / name).write_bytes(html)


if __name__ == "__main__":
    main()
