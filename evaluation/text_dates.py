"""How well dates read from the text stand in for real publication dates, on IndoSum.

IndoSum's articles carry their real publication time (``timestamp_from_id``). The script hides
it, dates each article from its text (``pipeline.dates.date_from_text``, reference: the nightly
run after publication, i.e. the publication time plus one day), and counts how often the text's
date is the publication day (in Western Indonesia Time, UTC+7, the outlets' zone), another day
(and how many of those are the one to three days before: the day of the event the article
reports, as Indonesian news states it, "Senin (13/3)"), or not found.

    uv run python evaluation/text_dates.py [--first-chars 600] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from pipeline.dates import FIRST_CHARS, date_from_text
from pipeline.settings import INDOSUM_ARTICLES

WIB = timezone(timedelta(hours=7))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-chars", type=int, default=FIRST_CHARS)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    outcome: Counter[str] = Counter()
    off_by: Counter[int] = Counter()
    started = time.monotonic()
    with INDOSUM_ARTICLES.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if args.limit and number >= args.limit:
                break
            article = json.loads(line)
            published = datetime.fromisoformat(article["timestamp_from_id"].replace("Z", "+00:00"))
            found = date_from_text(article["text"], "id", published + timedelta(days=1), args.first_chars)
            if found is None:
                outcome["none"] += 1
                continue
            delta = (found - published.astimezone(WIB).date()).days
            outcome["same day" if delta == 0 else "other day"] += 1
            outcome["1 to 3 days before"] += -3 <= delta <= -1
            if delta:
                off_by[delta] += 1
    total = outcome["same day"] + outcome["other day"] + outcome["none"]
    print(
        json.dumps(
            {
                "articles": total,
                "first_chars": args.first_chars,
                **{k: outcome[k] for k in ("same day", "other day", "1 to 3 days before", "none")},
                "same_day_share": round(outcome["same day"] / total, 4),
                "dated_share": round((outcome["same day"] + outcome["other day"]) / total, 4),
                "precision": round(outcome["same day"] / max(1, total - outcome["none"]), 4),
                "other_day_offsets": dict(sorted(off_by.most_common(8))),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
