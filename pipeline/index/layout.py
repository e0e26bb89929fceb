"""The index layout: analysis, mapping, versioned indices behind a read and a write alias, the
templates that give every version the same settings, and the bulk-loading mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from elasticsearch import (
    ApiError,
    Elasticsearch,
    TransportError,
)

INDONESIAN_STEMS = Path(__file__).parent.parent / "models" / "indonesian_stems.txt"

# Only filters a stock distribution and the local node (es/) both provide: the stemmer_override
# rules mark their words as keywords, so Lucene's stemmer leaves those alone.
ANALYSIS: dict[str, Any] = {
    "filter": {
        "warta_indonesian_stop": {"type": "stop", "stopwords": "_indonesian_"},
        "warta_indonesian_roots": {
            "type": "stemmer_override",
            "rules": INDONESIAN_STEMS.read_text(encoding="utf-8").splitlines(),
        },
        "warta_indonesian_stemmer": {"type": "stemmer", "language": "indonesian"},
    },
    "analyzer": {
        "warta_indonesian": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [
                "lowercase",
                "warta_indonesian_stop",
                "warta_indonesian_roots",
                "warta_indonesian_stemmer",
            ],
        }
    },
}


def _text(max_keyword: int | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": {"type": "text", "analyzer": "warta_indonesian"},
        "en": {"type": "text", "analyzer": "english"},
    }
    if max_keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": max_keyword}
    return {"type": "text", "analyzer": "standard", "fields": fields}


_KEYWORD = {"type": "keyword", "ignore_above": 512}

# Bump when the mapping or analysis changes; `warta index status` then says a reindex is due.
MAPPING_VERSION = 5

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"warta_mapping_version": MAPPING_VERSION},
    "properties": {
        "title": _text(max_keyword=512),
        "body": _text(),
        "url": {"type": "keyword", "ignore_above": 2048},
        "domain": _KEYWORD,
        "story_id": _KEYWORD,
        "story_bands": {"type": "keyword"},  # LSH band keys of the MinHash sketch (finding story members)
        "minhash": {"type": "keyword", "index": False, "doc_values": False},  # the sketch, base64
        "source": _KEYWORD,
        "site_name": _KEYWORD,
        "image": {"type": "keyword", "ignore_above": 2048},
        "authors": _KEYWORD,
        "language": _KEYWORD,
        "published_at": {"type": "date"},
        "published_on": {"type": "date", "format": "strict_date"},  # a day read from the text
        "date_source": _KEYWORD,  # input | page | feed | text | first_seen
        "first_seen_at": {"type": "date"},
        # The time field of Kibana's data view, on every document: published_at, else the day
        # from the text, else first_seen_at (date_source says which).
        "timestamp": {"type": "date"},
        "ingested_at": {"type": "date"},
        "input_id": {"type": "keyword", "ignore_above": 2048},
        "persons": _KEYWORD,
        "organisations": _KEYWORD,
        "locations": _KEYWORD,
        "entities": {
            "properties": {
                "text": _KEYWORD,
                "label": _KEYWORD,
                "field": _KEYWORD,
                "start": {"type": "integer"},
                "end": {"type": "integer"},
                "canonical": _KEYWORD,
            }
        },
    },
}

# One shard (a news index stays small per version); one replica once the cluster has a second
# node to hold it, none on a single node (which would otherwise stay yellow forever).
SMALL_INDEX: dict[str, Any] = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}
INDEX_SETTINGS: dict[str, Any] = {**SMALL_INDEX, "refresh_interval": "1s"}


class IndexLayoutError(RuntimeError):
    """The name is taken by something this code does not manage the way it expects."""


def write_alias(name: str) -> str:
    return f"{name}-write"


def version_of(name: str, index: str) -> int | None:
    match = re.fullmatch(re.escape(name) + r"-v(\d+)", index)
    return int(match.group(1)) if match else None


def install_templates(client: Elasticsearch, name: str) -> None:
    """Component templates for settings and mappings, and the index template composing them.

    The index template matches ``<name>-v*``; its priority grows with the name's length so that,
    should ``news-v*`` also match ``news-v2-v1``, the more specific ``news-v2`` template wins.
    """
    client.cluster.put_component_template(
        name=f"{name}-settings", template={"settings": INDEX_SETTINGS}, meta={"managed_by": "warta"}
    )
    client.cluster.put_component_template(
        # The analysis sits with the mappings that name it: Elasticsearch checks each component
        # template on its own.
        name=f"{name}-mappings",
        template={"settings": {"analysis": ANALYSIS}, "mappings": MAPPINGS},
        meta={"managed_by": "warta"},
    )
    client.indices.put_index_template(
        name=name,
        index_patterns=[f"{name}-v*"],
        composed_of=[f"{name}-settings", f"{name}-mappings"],
        priority=100 + len(name),
        meta={"managed_by": "warta", "mapping_version": MAPPING_VERSION},
    )


def versions(client: Elasticsearch, name: str) -> list[str]:
    """The concrete versions of ``name`` (``<name>-vN``), oldest first."""
    found = client.indices.get(index=f"{name}-v*", allow_no_indices=True, expand_wildcards="open,closed")
    numbered = [(v, index) for index in found if (v := version_of(name, index)) is not None]
    return [index for _v, index in sorted(numbered)]


def current_index(client: Elasticsearch, name: str) -> str | None:
    """The concrete index the read alias ``name`` points at (None if there is no such alias)."""
    if not client.indices.exists_alias(name=name):
        return None
    targets = list(client.indices.get_alias(name=name))
    if len(targets) != 1:
        raise IndexLayoutError(
            f"alias {name} points at {len(targets)} indices ({', '.join(targets)}); expected 1"
        )
    return targets[0]


def ensure_index(client: Elasticsearch, name: str) -> str:
    """Templates installed, and a versioned index behind the read and write aliases; returns it."""
    install_templates(client, name)
    current = current_index(client, name)
    if current is not None:
        if mapping_version(client, current) < MAPPING_VERSION:
            _add_new_fields(client, current)
        return current
    if client.indices.exists(index=name):
        raise IndexLayoutError(
            f"{name} is a concrete index, not an alias: run `warta reindex --index {name}` once to move "
            "it behind versioned indices and aliases"
        )
    existing = versions(client, name)
    new = f"{name}-v{(version_of(name, existing[-1]) or 0) + 1 if existing else 1}"
    client.indices.create(index=new, aliases={name: {}, write_alias(name): {"is_write_index": True}})
    return new


def _add_new_fields(client: Elasticsearch, index: str) -> None:
    """Bring an older index up to the code's mapping in place when the change only adds fields
    (new fields apply to documents written from now on); anything else needs ``warta reindex``."""
    from elasticsearch import BadRequestError

    try:
        client.indices.put_mapping(
            index=index, properties=MAPPINGS["properties"], meta=MAPPINGS["_meta"], dynamic="strict"
        )
    except BadRequestError as err:
        raise IndexLayoutError(
            f"{index} has mapping version {mapping_version(client, index)} and the code "
            f"{MAPPING_VERSION}, and the change is more than new fields ({err.message}): run "
            "`warta reindex` to move to a new version"
        ) from err


def mapping_version(client: Elasticsearch, index: str) -> int:
    meta = client.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    return int(meta.get("warta_mapping_version", 1))


def drop(client: Elasticsearch, name: str) -> None:
    """Every version of ``name``, a legacy concrete index of that name, and the templates."""
    doomed = versions(client, name)
    if client.indices.exists(index=name) and not client.indices.exists_alias(name=name):
        doomed.append(name)
    if doomed:
        client.indices.delete(index=",".join(doomed))
    client.options(ignore_status=404).indices.delete_index_template(name=name)
    for part in ("settings", "mappings"):
        client.options(ignore_status=404).cluster.delete_component_template(name=f"{name}-{part}")


@contextmanager
def bulk_mode(client: Elasticsearch, index: str) -> Iterator[None]:
    """No periodic refreshes while a bulk load runs (each one costs a segment flush); the
    index's own refresh interval comes back afterwards, followed by one refresh.

    ``index`` may be an alias (of one index). The concrete index is resolved once, at the start,
    and its interval restored there: if a reindex moves the alias meanwhile, the old version gets
    its interval back too (the new one has its own from the templates)."""
    targets = list(client.indices.get_settings(index=index, name="index.number_of_shards"))
    if len(targets) != 1:
        raise IndexLayoutError(f"{index} resolves to {len(targets)} indices; bulk mode wants one")
    concrete = targets[0]
    current = client.indices.get_settings(index=concrete, name="index.refresh_interval").body
    # None when the index has no explicit interval (created outside the template): restoring
    # null puts Elasticsearch's default back.
    interval = current.get(concrete, {}).get("settings", {}).get("index", {}).get("refresh_interval")
    if interval == "-1":  # left behind by a load that died (node lost mid-load): not the index's own
        interval = INDEX_SETTINGS["refresh_interval"]
    client.indices.put_settings(index=concrete, settings={"index": {"refresh_interval": "-1"}})
    restore = {"index": {"refresh_interval": interval}}
    try:
        yield
    except BaseException:
        # Restore if the cluster answers; if it does not, the next load restores (see above), and
        # the error that stopped this load stays the one reported.
        with suppress(TransportError, ApiError):
            client.indices.put_settings(index=concrete, settings=restore)
        raise
    client.indices.put_settings(index=concrete, settings=restore)
    client.indices.refresh(index=f"{concrete},{index}")
