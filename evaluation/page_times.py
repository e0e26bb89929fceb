"""Publication times against the time each page states, on the Zyte dev pages.

The benchmark has no date gold, so the page is its own witness: the first publication time it
states with a zone (JSON-LD ``datePublished``, else ``article:published_time``, else
``itemprop=datePublished``), read here by plain parsing, independent of htmldate. Each page's
cleaned ``published_at`` is then counted as exact (the same instant), cut to midnight (right day,
the day only), another time, or missing. Pages whose stated time has no zone are counted apart,
with the ``date_source`` Warta gives them.

    uv run python evaluation/page_times.py [FOLDER]      (default: ../shared/data/extraction/zyte-dev)
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from lxml import html as lxml_html

from pipeline.clean import clean, json_ld_objects
from pipeline.records import Article, RawArticle
from pipeline.settings import SHARED_DATA

ZONED = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
TIMED = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def stated_time(page: str) -> str | None:
    """The page's first stated publication time with at least hours and minutes."""
    tree = lxml_html.fromstring(page)
    candidates = [
        n["datePublished"] for n in json_ld_objects(tree) if isinstance(n.get("datePublished"), str)
    ]
    candidates += tree.xpath("//meta[@property='article:published_time']/@content")
    candidates += tree.xpath(
        "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime"
    )
    # A year before 1990 is a placeholder (one page states 0001-01-01), not a statement.
    return next((c.strip() for c in candidates if TIMED.match(c.strip()) and c.strip()[:4] >= "1990"), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=SHARED_DATA / "extraction" / "zyte-dev")
    args = parser.parse_args()
    truth = json.loads((args.folder / "ground_truth.json").read_text(encoding="utf-8"))
    zoned: Counter[str] = Counter()
    zoneless: Counter[str] = Counter()
    for page_id, gold in sorted(truth.items()):
        page = gzip.decompress((args.folder / "html" / f"{page_id}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        stated = stated_time(page)
        if stated is None:
            continue
        article = clean(
            RawArticle(input_id=page_id, source="eval", format="html", content=page, url=gold["url"])
        )
        got = article.published_at if isinstance(article, Article) else None
        if not ZONED.match(stated):
            zoneless[article.date_source if isinstance(article, Article) else "rejected"] += 1
            continue
        want = datetime.fromisoformat(stated.replace("Z", "+00:00"))
        if got is None:
            zoned["missing"] += 1
            continue
        if got.tzinfo is not None and got == want.replace(microsecond=0):  # Warta keeps seconds
            zoned["exact"] += 1
            continue
        if got.time() == datetime.min.time():
            outcome = "midnight (the day only)" if got.date() == want.date() else "another day"
        else:
            outcome = "another time"
        zoned[outcome] += 1
        print(f"  {outcome}: {gold['url'][:70]} stated {stated}, got {got.isoformat()}")
    print(f"pages stating a time with a zone: {sum(zoned.values())}: {dict(zoned)}")
    print(f"pages stating a time without a zone: {sum(zoneless.values())}, date_source: {dict(zoneless)}")


if __name__ == "__main__":
    main()
