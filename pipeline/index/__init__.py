"""Index: the Elasticsearch mapping, versioned indices behind aliases, the bulk loader, reindexing.

Users and Kibana address an index *name* (``warta-articles``), which is an alias: the read alias
points at one concrete, versioned index (``warta-articles-v3``), and ``warta-articles-write`` is
the write alias the loader uses. Component templates (``<name>-settings``, ``<name>-mappings``)
composed by the index template ``<name>`` (matching ``<name>-v*``) own settings and mappings, so
every version gets the same analysis however it is created. ``reindex`` builds the next version,
verifies it, and swaps both aliases in one atomic ``_aliases`` call: searches never see an empty
or half-built index.

Text fields are analysed three ways: ``standard`` on the field itself, ``.en`` with
Elasticsearch's ``english`` analyzer, and ``.id`` with ``warta_indonesian``: the ``indonesian``
analyzer's steps with a dictionary's word → root list (``models/indonesian_stems.txt``, built by
``training/indonesian_stems.py`` with Sastrawi) applied before Lucene's rule-based stemmer, so
``bicara`` finds ``pembicaraan`` and ``bertemu`` finds ``pertemuan``, but ``masa`` no longer finds
``masalah``. Entity names are keyword arrays per type, for Kibana aggregations.

The parts: ``connection`` (the client, the access check, the least-privilege role), ``layout``
(analysis, mapping, versions and aliases), ``load`` (the bulk loader), ``reindexing``.
"""

from pipeline.index.connection import AccessDenied, check_access, connect, least_privilege_role
from pipeline.index.layout import (
    ANALYSIS,
    INDONESIAN_STEMS,
    MAPPING_VERSION,
    MAPPINGS,
    SMALL_INDEX,
    IndexLayoutError,
    bulk_mode,
    current_index,
    drop,
    ensure_index,
    mapping_version,
    versions,
    write_alias,
)
from pipeline.index.load import LoadError, LoadResult, bulk_load, story_lookup, to_document
from pipeline.index.reindexing import ReindexReport, from_document, reindex

__all__ = [
    "ANALYSIS",
    "INDONESIAN_STEMS",
    "MAPPINGS",
    "MAPPING_VERSION",
    "SMALL_INDEX",
    "AccessDenied",
    "IndexLayoutError",
    "LoadError",
    "LoadResult",
    "ReindexReport",
    "bulk_load",
    "bulk_mode",
    "check_access",
    "connect",
    "current_index",
    "drop",
    "ensure_index",
    "from_document",
    "least_privilege_role",
    "mapping_version",
    "reindex",
    "story_lookup",
    "to_document",
    "versions",
    "write_alias",
]
