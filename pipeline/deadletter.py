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
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk
from pydantic import BaseModel

from pipeline.index import SMALL_INDEX
from pipeline.records import RawArticle, Rejection

CONFLICT_ATTEMPTS = 20  # guarded writes re-read and re-tried this often when another writer won
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
        client.options(ignore_status=400).indices.create(index=index, settings=SMALL_INDEX, mappings=MAPPINGS)


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
    by_input = {r.input_id: r for r in rejections}  # one letter per input

    def action(input_id: str, before: _Stored | None, now: datetime) -> dict[str, Any]:
        rejection = by_input[input_id]
        letter = _letter(rejection, before.letter if before else None, raws.get(input_id), run_id, now)
        return {"_index": index, "_id": letter.id, "_source": letter.model_dump(mode="json")}

    return _write_guarded(client, index, list(by_input), action, "recorded")


Action = Callable[[str, "_Stored | None", datetime], "dict[str, Any] | None"]


def _write_guarded(
    client: Elasticsearch, index: str, input_ids: list[str], action: Action, doing: str
) -> int:
    """Read the letters of ``input_ids``, write ``action(input_id, as read, now)`` for each (None:
    nothing to write) only if nobody wrote it in between (``if_seq_no`` / ``if_primary_term``; a
    new letter with ``create``), and read and write again those that lost a race: a replay racing
    a nightly run cannot lose an update. Returns how many were written."""
    pending, written = input_ids, 0
    for _attempt in range(CONFLICT_ATTEMPTS):
        stored = _get(client, index, pending)
        now = datetime.now(UTC)
        actions = [
            _guarded(made, stored.get(input_id))
            for input_id in pending
            if (made := action(input_id, stored.get(input_id), now)) is not None
        ]
        if not actions:
            return written
        done, conflicts = _bulk_guarded(client, actions)
        written += done
        pending = [i for i in pending if letter_id(i) in conflicts]
        if not pending:
            return written
        _back_off()
    raise RuntimeError(f"dead letters in {index} kept changing: {len(pending)} not {doing}")


def _letter(
    rejection: Rejection, before: DeadLetter | None, raw: RawArticle | None, run_id: str, now: datetime
) -> DeadLetter:
    kept = raw is not None and len(raw.content) <= MAX_KEPT_CHARS
    # One attempt per run: a retried report task writes the same letter again, not a new attempt.
    again = before is not None and before.run_id == run_id
    return DeadLetter(
        input_id=rejection.input_id,
        source=(raw.source if raw else None) or rejection.source or (before.source if before else None),
        stage=rejection.stage,
        reason=rejection.reason,
        attempts=(before.attempts if again else before.attempts + 1) if before else 1,
        run_id=run_id,
        first_quarantined_at=before.first_quarantined_at if before else now,
        quarantined_at=now,
        raw_kept=kept or bool(before and before.raw_kept),
        raw=raw if kept else (before.raw if before else None),
    )


def _back_off() -> None:
    """A short random pause after losing a race, so the writers do not collide again in step."""
    time.sleep(random.uniform(0.01, 0.1))


def _guarded(action: dict[str, Any], before: _Stored | None) -> dict[str, Any]:
    if before is None:
        return {**action, "_op_type": "create"}
    return {**action, "if_seq_no": before.seq_no, "if_primary_term": before.primary_term}


def _bulk_guarded(client: Elasticsearch, actions: list[dict[str, Any]]) -> tuple[int, set[str]]:
    """(written, ids that conflicted: someone else wrote them since they were read)."""
    written, conflicts = 0, set()
    for ok, item in streaming_bulk(client, actions, raise_on_error=False, refresh="wait_for"):
        info = next(iter(item.values()))
        if ok:
            written += 1
        elif info.get("status") == 409:
            conflicts.add(str(info.get("_id")))
        else:
            raise RuntimeError(f"dead letter {info.get('_id')} not written: {info.get('error')}")
    return written, conflicts


def resolve(client: Elasticsearch, index: str, outcomes: dict[str, str]) -> int:
    """Mark open dead letters resolved: {input_id: "indexed" | "duplicate"}; guarded like record."""

    def action(input_id: str, before: _Stored | None, now: datetime) -> dict[str, Any] | None:
        if before is None or before.letter.status != "open":
            return None
        done = {"status": "resolved", "resolved_at": now.isoformat(), "resolution": outcomes[input_id]}
        return {"_op_type": "update", "_index": index, "_id": before.letter.id, "doc": done}

    return _write_guarded(client, index, list(outcomes), action, "resolved")


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


@dataclass(frozen=True, slots=True)
class _Stored:
    """A letter as read, with the version it was read at (for a guarded write)."""

    letter: DeadLetter
    seq_no: int
    primary_term: int


def _get(client: Elasticsearch, index: str, input_ids: list[str]) -> dict[str, _Stored]:
    if not input_ids or not client.indices.exists(index=index):
        return {}
    found: dict[str, _Stored] = {}
    for start in range(0, len(input_ids), 1000):
        chunk = input_ids[start : start + 1000]
        response = client.mget(index=index, ids=[letter_id(i) for i in chunk])
        for doc in response["docs"]:
            if doc.get("found"):
                letter = DeadLetter.model_validate(doc["_source"])
                found[letter.input_id] = _Stored(letter, doc["_seq_no"], doc["_primary_term"])
    return found
