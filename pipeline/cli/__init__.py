"""The ``warta`` command: ingest, search, the local Elasticsearch node, NER training and evaluation.

The commands live by subject (``articles``, ``services``, ``models``) on the app of ``app.py``.
"""

from __future__ import annotations

from pipeline.cli import articles, models, services
from pipeline.cli.app import app, console

__all__ = ["app", "main"]
_COMMANDS = (articles, models, services)  # imported for their commands, which register on ``app``


def main() -> None:
    """The ``warta`` command: the app, with a refused credential as one clear line, not a traceback."""
    from pipeline.index import AccessDenied

    try:
        app()
    except AccessDenied as err:
        console.print(f"[red]{err}[/red]")
        raise SystemExit(1) from None
