"""The run ledger: one document per run in an Elasticsearch index Kibana can chart.

Each run's report (counts by outcome, by stage and by source, step durations, failed sources and
whether ``inputs = indexed + duplicates + quarantined + skipped`` holds) is written to
``WARTA_RUNS_INDEX`` (``warta-runs``) under the run's id, so re-running the report of the same run
overwrites its record instead of adding one. Rejection details stay in the run folder.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from pipeline.index import SMALL_INDEX

MAPPINGS: dict[str, Any] = {
    "dynamic": True,  # counts per stage and outcome are open-ended; they map as numbers
    "properties": {
        "run_id": {"type": "keyword"},
        "run_dir": {"type": "keyword", "index": False},
        "index": {"type": "keyword"},
        "started_at": {"type": "date"},
        "finished_at": {"type": "date"},
        "duration_s": {"type": "float"},
        "reconciled": {"type": "boolean"},
        "inputs": {"type": "long"},
        "indexed": {"type": "long"},
        "created": {"type": "long"},
        "updated": {"type": "long"},
        "duplicates": {"type": "long"},
        "quarantined": {"type": "long"},
        "skipped": {"type": "long"},
        "failed_source_count": {"type": "integer"},
        "sources": {
            "properties": {
                "name": {"type": "keyword"},
                "status": {"type": "keyword"},
                "reason": {"type": "text"},
            }
        },
        "step_seconds": {"type": "object"},
        "by_stage": {"type": "object"},
    },
}


def record(client: Elasticsearch, index: str, entry: dict[str, Any]) -> None:
    if not client.indices.exists(index=index):
        client.options(ignore_status=400).indices.create(index=index, settings=SMALL_INDEX, mappings=MAPPINGS)
    client.index(index=index, id=entry["run_id"], document=entry, refresh="wait_for")
