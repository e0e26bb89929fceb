"""Commands on models: rebuild the NER model, measure stages on gold data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import (
    console,
    eval_app,
    train_app,
)
from pipeline.settings import NER_CORPORA, get_settings


@train_app.command("ner")
def train_ner(
    data: Annotated[Path, typer.Option(help="The shared NER corpora folder.")] = NER_CORPORA,
    max_steps: Annotated[int | None, typer.Option(help="Override the config's training steps.")] = None,
) -> None:
    """Rebuild pipeline/models/ner from the corpora (fixed seed, pinned config), the entity
    rules' common-word lists (Indonesian from IndoSum, English from the English pages' gold text),
    their given-name and entity-first-word lists (from the corpora's entities) and, with the new
    model, the persons' nickname list (from IndoSum)."""
    from pipeline.enrich import common_words_path, entity_first_words_path, given_names_path, nicknames_path
    from pipeline.train_ner import (
        COMMON_WORD_MIN_COUNT,
        build_common_words,
        build_entity_first_words,
        build_given_names,
        build_nicknames,
        common_word_texts,
        indosum_texts,
        split_corpora,
        train,
    )

    for language, min_count in COMMON_WORD_MIN_COUNT.items():
        texts = common_word_texts(data.parent, language)
        written = build_common_words(texts, common_words_path(language), min_count)
        typer.echo(f"common words written to {written}")
    splits = split_corpora(data)
    typer.echo(f"given names written to {build_given_names(splits, given_names_path())}")
    first_words = build_entity_first_words(splits, entity_first_words_path())
    typer.echo(f"entity first words written to {first_words}")
    model = train(data, max_steps=max_steps, splits=splits)
    typer.echo(f"model written to {model}")
    nicknames = build_nicknames(indosum_texts(data.parent), model, nicknames_path())
    typer.echo(f"nicknames written to {nicknames}")


@eval_app.command("ner")
def eval_ner(
    conll: Annotated[Path, typer.Argument(help="token<TAB>tag file, blank line between sentences.")],
    model: Annotated[Path | None, typer.Option(help="Model folder (default: WARTA_NER_MODEL).")] = None,
    types: Annotated[str, typer.Option(help="Comma-separated entity types to score.")] = "PER,ORG,LOC",
) -> None:
    """Entity-level P/R/F1 over PER/ORG/LOC and tokens per second, as one JSON line."""
    from pipeline.evaluation import evaluate_ner

    chosen = frozenset(t.strip().upper() for t in types.split(",") if t.strip())
    try:
        result = evaluate_ner(conll, model or get_settings().ner_model, chosen)
    except (OSError, ValueError) as err:  # a missing, unreadable, malformed or empty file
        console.print(str(err), style="red", markup=False, soft_wrap=True)  # one line, as it is
        raise typer.Exit(2) from err
    typer.echo(json.dumps(result))


@eval_app.command("extraction")
def eval_extraction(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Zyte layout (html/<id>.html.gz + ground_truth.json) or trafilatura-eval layout."
        ),
    ],
    baseline: Annotated[
        bool, typer.Option(help="Also run trafilatura's defaults on the same pages.")
    ] = False,
) -> None:
    """Score the cleaning stage on gold pages; one JSON line (shingle P/R/F1 or snippet shares, pages/s)."""
    from pipeline.evaluation import evaluate_extraction

    typer.echo(json.dumps(evaluate_extraction(folder, baseline=baseline)))
