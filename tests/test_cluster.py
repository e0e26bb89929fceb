"""Several nodes: a local cluster of three 9.x nodes on loopback, one replica per shard. A node
is killed (SIGKILL) in the middle of a 20,000-article load: the load finishes through retries,
the count is exact with no duplicates, and searches keep answering while the cluster is yellow.

Ports: WARTA_TEST_ES_CLUSTER_PORTS (default 9255,9256,9257); fresh data folders each run.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pipeline import es_local
from pipeline.index import bulk_load, connect, drop, ensure_index, write_alias
from pipeline.records import TaggedArticle
from pipeline.settings import Settings, get_settings

PORTS = [int(p) for p in os.environ.get("WARTA_TEST_ES_CLUSTER_PORTS", "9255,9256,9257").split(",")]
ARTICLES = 20_000
KILL_AFTER = 6_000  # documents created before the node is killed


@pytest.fixture(scope="module")
def cluster() -> Iterator[Settings]:
    """Settings naming every node of the cluster (comma-separated URLs)."""
    first = get_settings().model_copy(
        update={"es_url": f"http://127.0.0.1:{PORTS[0]}", "es_heap": "512m", "es_api_key": None}
    )
    for port in PORTS:
        shutil.rmtree(es_local.NodePaths(first.es_home, port).base, ignore_errors=True)
    es_local.start_cluster(first, PORTS)
    yield first.model_copy(update={"es_url": ",".join(f"http://127.0.0.1:{p}" for p in PORTS)})
    es_local.stop_cluster(first, PORTS)


def _article(n: int) -> TaggedArticle:
    return TaggedArticle(
        id=f"cluster-{n:05d}",
        input_id=f"cluster-{n:05d}",
        source="cluster-test",
        title=f"Berita nomor {n}",
        body=f"Pemerintah kota mengumumkan program nomor {n} untuk warga. " * 12,
        language="id",
        ingested_at=datetime.now(UTC),
    )


def _node_pid(port: int, settings: Settings) -> int:
    return int(es_local.NodePaths(settings.es_home, port).pid_file.read_text())


def test_a_node_killed_mid_load_loses_and_duplicates_nothing(cluster: Settings) -> None:
    client = connect(cluster)
    name = "warta-cluster-test"
    drop(client, name)
    concrete = ensure_index(client, name)
    health = client.cluster.health(index=concrete, wait_for_status="green", timeout="60s")
    assert health["number_of_nodes"] == 3 and health["status"] == "green"
    settings_of = client.indices.get_settings(index=concrete)[concrete]["settings"]["index"]
    assert settings_of["auto_expand_replicas"] == "0-1"
    # The victim: the node holding the primary shard, so the load must survive a failover.
    shards = client.cat.shards(index=concrete, format="json")
    primary_node = next(s["node"] for s in shards if s["prirep"] == "p")
    victim = next(p for p in PORTS if f"warta-{p}" == primary_node)

    searches: list[tuple[float, str]] = []  # (time, "ok" | error) while the load runs
    loading = threading.Event()
    loading.set()

    def search_all_along() -> None:
        reader = connect(cluster)
        while loading.is_set():
            try:
                reader.search(index=name, query={"match": {"body.id": "program"}}, size=1)
                searches.append((time.monotonic(), "ok"))
            except Exception as err:
                searches.append((time.monotonic(), f"{type(err).__name__}: {err}"))
            time.sleep(0.2)
        reader.close()

    killed_at: list[float] = []
    created = 0

    def on_created(ids: list[str]) -> None:
        nonlocal created
        created += len(ids)
        if created >= KILL_AFTER and not killed_at:
            os.kill(_node_pid(victim, cluster), signal.SIGKILL)
            killed_at.append(time.monotonic())

    reader_thread = threading.Thread(target=search_all_along)
    reader_thread.start()
    started = time.monotonic()
    try:
        result = bulk_load(
            client,
            write_alias(name),
            (_article(n) for n in range(ARTICLES)),
            chunk_size=500,
            retry_budget_s=180,
            on_created=on_created,
        )
    finally:
        loading.clear()
        reader_thread.join()
    took = time.monotonic() - started
    assert killed_at, "the node was never killed"
    assert result.rejected == []
    assert result.indexed == ARTICLES

    health = client.cluster.health(index=concrete)
    assert health["number_of_nodes"] == 2 and health["status"] in ("yellow", "green")
    client.indices.refresh(index=name)
    assert client.count(index=name)["count"] == ARTICLES
    # No input twice (one shard, so the terms aggregation is exact).
    twice = client.search(
        index=name, size=0, aggs={"twice": {"terms": {"field": "input_id", "min_doc_count": 2}}}
    )["aggregations"]["twice"]["buckets"]
    assert twice == []

    after_kill = [outcome for at, outcome in searches if at > killed_at[0]]
    failed = [outcome for outcome in after_kill if outcome != "ok"]
    assert after_kill and not failed, failed[:3]
    print(
        f"\n{ARTICLES} articles in {took:.1f}s; node warta-{victim} (primary) killed after "
        f"{KILL_AFTER}; created {result.created}, updated {result.updated}; "
        f"{len(after_kill)} searches after the kill, {len(failed)} failed; health {health['status']}"
    )
    client.close()
