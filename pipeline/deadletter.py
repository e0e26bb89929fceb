"""Dead letters: every quarantined input, kept where an operator can inspect and replay it.

Each run's report writes one document per quarantined input to ``WARTA_DEAD_LETTER_INDEX``
(``warta-dead-letter``), keyed by the input (a file path, ``path:line``, a WARC record or a URL),
so the same input quarantined again updates its record (``attempts`` grows) instead of adding one.
Shared by every Airflow worker and visible in Kibana, like the run ledger and the fetch state.

A record keeps the raw article when the input was quarantined after it was read (cleaning or
tagging failed, Elasticsearch refused it) and the raw content is at most ``MAX_KEPT_CHARS``; it is
replayed from that copy. Inputs quarantined before they were read (an unreadable file, a failed
download) keep only their reference and are replayed by reading the file or fetching the URL again.
``warta deadletter list|show|replay``; a replayed record is ``resolved`` once its input is indexed
(or found to be a duplicate), and stays ``open`` with the new reason otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk
from pydantic import BaseModel

from pipeline.records import RawArticle, Rejection

MAX_KEPT_CHARS = 5_000_000  # larger raw inputs keep their reference only (re-read to replay)
Status = Literal["open", "resolved"]

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "input_id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "stage": {"type": "keyword"},
        "reason": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "status": {"type": "keyword"},
        "attempts": {"type": "integer"},
        "run_id": {"type": "keyword"},
        "first_quarantined_at": {"type": "date"},
        "quarantined_at": {"type": "date"},
        "resolved_at": {"type": "date"},
        "resolution": {"type": "keyword"},
        "raw_kept": {"type": "boolean"},
        # Kept for replay, never searched: not indexed, only stored in _source.
        "raw": {"type": "object", "enabled": False},
    },
}


class DeadLetter(BaseModel):
    input_id: str
    source: str | None = None
    stage: str
    reason: str
    status: Status = "open"
    attempts: int = 1
    run_id: str
    first_quarantined_at: datetime
    quarantined_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    raw_kept: bool = False
    raw: RawArticle | None = None

    @property
    def id(self) -> str:
        return letter_id(self.input_id)


def letter_id(input_id: str) -> str:
    return hashlib.sha1(input_id.encode("utf-8")).hexdigest()


def ensure(client: Elasticsearch, index: str) -> None:
    if not client.indices.exists(index=index):
        client.options(ignore_status=400).indices.create(
            index=index, settings={"number_of_shards": 1, "number_of_replicas": 0}, mappings=MAPPINGS
        )


def record(
    client: Elasticsearch,
    index: str,
    quarantined: Iterable[Rejection],
    raws: dict[str, RawArticle],
    run_id: str,
) -> int:
    """Upsert one dead letter per quarantined input, a thousand at a time (a run may quarantine
    millions of lines); returns how many were written."""
    rejections = (r for r in quarantined if r.outcome == "quarantined")
    written = 0
    while chunk := list(islice(rejections, 1000)):
        ensure(client, index)
        written += _record_chunk(client, index, chunk, raws, run_id)
    return written


def _record_chunk(
    client: Elasticsearch, index: str, rejections: list[Rejection], raws: dict[str, RawArticle], run_id: str
) -> int:
    earlier = _get(client, index, [r.input_id for r in rejections])
    now = datetime.now(UTC)

    def actions() -> Iterator[dict[str, Any]]:
        for rejection in rejections:
            before = earlier.get(rejection.input_id)
            raw = raws.get(rejection.input_id)
            kept = raw is not None and len(raw.content) <= MAX_KEPT_CHARS
            letter = DeadLetter(
                input_id=rejection.input_id,
                source=raw.source if raw else (before.source if before else None),
                stage=rejection.stage,
                reason=rejection.reason,
                attempts=before.attempts + 1 if before else 1,
                run_id=run_id,
                first_quarantined_at=before.first_quarantined_at if before else now,
                quarantined_at=now,
                raw_kept=kept or bool(before and before.raw_kept),
                raw=raw if kept else (before.raw if before else None),
            )
            yield {"_index": index, "_id": letter.id, "_source": letter.model_dump(mode="json")}

    written, _ = bulk(client, actions(), refresh="wait_for")
    return written


def resolve(client: Elasticsearch, index: str, outcomes: dict[str, str]) -> int:
    """Mark open dead letters resolved: {input_id: "indexed" | "duplicate" | "skipped"}."""
    letters = _get(client, index, list(outcomes))
    now = datetime.now(UTC)
    actions = [
        {
            "_op_type": "update",
            "_index": index,
            "_id": letter.id,
            "doc": {"status": "resolved", "resolved_at": now.isoformat(), "resolution": outcomes[input_id]},
        }
        for input_id, letter in letters.items()
        if letter.status == "open"
    ]
    if not actions:
        return 0
    written, _ = bulk(client, actions, refresh="wait_for")
    return written


def search(
    client: Elasticsearch,
    index: str,
    status: Status | None = "open",
    stage: str | None = None,
    reason: str | None = None,
    ids: list[str] | None = None,
    size: int = 10_000,
) -> list[DeadLetter]:
    """Dead letters matching every given filter, newest first (``reason``: words in the reason)."""
    if not client.indices.exists(index=index):
        return []
    filters: list[dict[str, Any]] = []
    if status:
        filters.append({"term": {"status": status}})
    if stage:
        filters.append({"term": {"stage": stage}})
    if ids:
        filters.append({"ids": {"values": ids}})
    must = [{"match": {"reason": {"query": reason, "operator": "and"}}}] if reason else []
    response = client.search(
        index=index,
        query={"bool": {"filter": filters, "must": must}},
        sort=[{"quarantined_at": "desc"}],
        size=size,
    )
    return [DeadLetter.model_validate(hit["_source"]) for hit in response["hits"]["hits"]]


def _get(client: Elasticsearch, index: str, input_ids: list[str]) -> dict[str, DeadLetter]:
    if not input_ids or not client.indices.exists(index=index):
        return {}
    found: dict[str, DeadLetter] = {}
    for start in range(0, len(input_ids), 1000):
        chunk = input_ids[start : start + 1000]
        response = client.mget(index=index, ids=[letter_id(i) for i in chunk])
        for doc in response["docs"]:
            if doc.get("found"):
                letter = DeadLetter.model_validate(doc["_source"])
                found[letter.input_id] = letter
    return found
