"""Enrich: tag people, organisations and places, and give each mention a canonical name.

The model is Warta's own spaCy pipeline, trained from the corpora in ``../shared/data/ner``
(see ``pipeline/models/ner/MODEL_CARD.md``). It is loaded once per process.

Canonical names: places take CLDR's English name whatever the language (``AS``, ``Amerika
Serikat`` -> ``United States``; see ``pipeline/gazetteer.py``); within one article a later short
form of a person (``Putin``) joins the earlier full name (``Vladimir Putin``), and an organisation
the article abbreviates (``Komisi Pemberantasan Korupsi (KPK)``) takes its abbreviation; see
``canonicalise`` for the rest (nicknames, surnames, web addresses, ``Partai``, ``DPR RI``).

The parts, in the order an article meets them (``tagging.tag_articles``):

- ``model.py``: loading the model fast (tokenizer, BLAS threads, anchored prefixes);
- ``spans.py``: the span rules that correct the model's entities (``entity_spans``), on one
  entity at a time, and the ordered lists of all rules;
- ``text_rules.py``: the span rules that read the whole text around the entities;
- ``canonical.py``: canonical names per mention and per article (``canonicalise``);
- ``words.py``: the word lists those read.
"""

from pipeline.enrich.canonical import (
    bracketed_nicknames,
    canonicalise,
    doc_mentions,
    nicknames_in,
    spells_nickname,
)
from pipeline.enrich.model import load_model, one_blas_thread
from pipeline.enrich.spans import entity_spans
from pipeline.enrich.tagging import tag_articles
from pipeline.enrich.words import (
    COMMON_WORD_LANGUAGES,
    LABELS,
    MODELS_DIR,
    common_words_path,
    entity_first_words_path,
    given_names_path,
    known_nicknames,
    nicknames_path,
)

__all__ = [
    "COMMON_WORD_LANGUAGES",
    "LABELS",
    "MODELS_DIR",
    "bracketed_nicknames",
    "canonicalise",
    "common_words_path",
    "doc_mentions",
    "entity_first_words_path",
    "entity_spans",
    "given_names_path",
    "known_nicknames",
    "load_model",
    "nicknames_in",
    "nicknames_path",
    "one_blas_thread",
    "spells_nickname",
    "tag_articles",
]
