"""The training recipe's data steps: dev carve-out, mention replacement, the common-word lists,
the nickname list, and installing a trained model."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.conll import Sentence
from pipeline.enrich import (
    COMMON_WORD_LANGUAGES,
    common_words_path,
    entity_first_words_path,
    given_names_path,
    nicknames_path,
)
from pipeline.settings import NER_CORPORA, SHARED_DATA, get_settings
from pipeline.train_ner import (
    COMMON_WORD_MIN_COUNT,
    build_common_words,
    build_entity_first_words,
    build_given_names,
    build_nicknames,
    common_word_texts,
    in_dev,
    indosum_texts,
    install_model,
    replace_mentions,
    split_corpora,
)


def test_dev_carve_out_is_stable_and_near_its_share() -> None:
    sentences = [Sentence([f"kata{i}", "lain", str(i * 7)], ["O", "O", "O"]) for i in range(2000)]
    picked = [in_dev(s, 0.1) for s in sentences]
    assert picked == [in_dev(s, 0.1) for s in sentences]  # same sentence, same side
    assert 150 < sum(picked) < 250
    assert not any(in_dev(s, 0.0) for s in sentences) and all(in_dev(s, 1.0) for s in sentences)


def test_replace_mentions_swaps_each_entity_for_one_of_its_type_and_keeps_the_rest() -> None:
    pools = {"PER": [("Sonata", "Coulter")], "ORG": [("Kementerian", "Luar", "Negeri")], "LOC": [("Bali",)]}
    tokens = ["Joko", "Widodo", "dari", "Partai", "X", "tiba", "di", "Amerika", "Serikat", "."]
    spans = [(0, 2, "PER"), (3, 5, "ORG"), (7, 9, "LOC")]
    out, new_spans = replace_mentions(tokens, spans, pools, random.Random(1))
    assert out == ["Sonata", "Coulter", "dari", "Kementerian", "Luar", "Negeri", "tiba", "di", "Bali", "."]
    assert [(" ".join(out[s:e]), label) for s, e, label in new_spans] == [
        ("Sonata Coulter", "PER"),
        ("Kementerian Luar Negeri", "ORG"),
        ("Bali", "LOC"),
    ]


def test_common_words_are_those_mostly_written_in_lower_case(tmp_path: Path) -> None:
    text = " ".join(["rakyat"] * 12 + ["Rakyat"] * 3 + ["Joko"] * 20 + ["joko"] * 2 + ["muda"] * 5)
    out = build_common_words([text], tmp_path / "common.txt")
    assert out.read_text(encoding="utf-8").split() == ["rakyat"]  # Joko: mostly capitalised; muda: too rare


def test_install_model_keeps_the_card_and_blanks_the_training_paths(tmp_path: Path) -> None:
    trained, output = tmp_path / "trained", tmp_path / "model"
    trained.mkdir()
    (trained / "meta.json").write_text("{}")
    (trained / "config.cfg").write_text(
        '[paths]\ntrain = "/tmp/warta-ner-x/train.spacy"\nvectors = "/tmp/warta-ner-x/vectors"\n\n'
        '[nlp]\nlang = "id"\nvectors = ${paths.vectors}\n'
    )
    (output / "licenses").mkdir(parents=True)
    (output / "MODEL_CARD.md").write_text("card")
    (output / "licenses" / "NOTICE").write_text("notice")
    (output / "old.bin").write_text("stale")

    install_model(trained, output)

    config = (output / "config.cfg").read_text()
    assert "/tmp/warta-ner-x" not in config
    assert "train = null" in config and "vectors = ${paths.vectors}" in config
    assert (output / "MODEL_CARD.md").read_text() == "card"
    assert (output / "licenses" / "NOTICE").read_text() == "notice"
    assert (output / "meta.json").exists() and not (output / "old.bin").exists()


@pytest.mark.parametrize("language", COMMON_WORD_LANGUAGES)
def test_committed_common_words_are_what_the_shared_texts_rebuild(tmp_path: Path, language: str) -> None:
    # The entity rules read the committed lists; each must be exactly what ``warta train ner`` rebuilds.
    texts = common_word_texts(SHARED_DATA, language)
    rebuilt = build_common_words(texts, tmp_path / "common.txt", COMMON_WORD_MIN_COUNT[language])
    assert rebuilt.read_bytes() == common_words_path(language).read_bytes()


def test_common_word_texts_refuse_a_language_without_texts() -> None:
    with pytest.raises(ValueError, match="no common-word texts"):
        next(common_word_texts(SHARED_DATA, "de"))


def test_nicknames_are_bracketed_words_the_model_reads_as_persons_and_spelled_from_the_name(
    tmp_path: Path,
) -> None:
    texts = [
        "Presiden Joko Widodo (Jokowi) meresmikan jembatan. Jokowi mengatakan jembatan itu penting.",
        "Pembalap Marc Marquez (Repsol) menang lagi di Sepang. Jokowi memberi selamat kepada Marquez.",
        "Pembalap Marc Marquez (Repsol) kalah. Jokowi dan Wakil Presiden Jusuf Kalla (JK) hadir.",
        "Kata Jokowi, Presiden Joko Widodo (Jokowi) tidak ragu. Jokowi lalu berangkat ke Bogor.",
    ]
    out = build_nicknames(texts, get_settings().ner_model, tmp_path / "nicknames.tsv")
    rows = [line.split("\t") for line in out.read_text().splitlines() if not line.startswith("#")]
    # Jokowi: two articles, spelled from the name, a person alone in every mention. Repsol, a
    # team, is no person; JK is paired in one article only.
    assert rows == [["Jokowi", "Joko Widodo", "2"]]


def test_committed_given_names_are_what_the_training_persons_rebuild(tmp_path: Path) -> None:
    splits = split_corpora(NER_CORPORA)
    rebuilt = build_given_names(splits, tmp_path / "given_names.txt")
    assert rebuilt.read_bytes() == given_names_path().read_bytes()
    names = set(rebuilt.read_text().split())
    assert {"joko", "ed"} <= names and "widodo" not in names  # first words of persons only


def test_committed_entity_first_words_are_what_the_training_entities_rebuild(tmp_path: Path) -> None:
    splits = split_corpora(NER_CORPORA)
    rebuilt = build_entity_first_words(splits, tmp_path / "entity_first_words.txt")
    assert rebuilt.read_bytes() == entity_first_words_path().read_bytes()
    words = set(rebuilt.read_text().split())
    assert {"partai", "desa", "jokowi"} <= words and not {"melansir", "nasib"} & words


def test_committed_nicknames_are_what_indosum_rebuilds(tmp_path: Path) -> None:
    # Tags all 3,463 IndoSum articles with the committed model (about 90 s on one core).
    texts = indosum_texts(SHARED_DATA)
    rebuilt = build_nicknames(texts, get_settings().ner_model, tmp_path / "nicknames.tsv")
    assert rebuilt.read_bytes() == nicknames_path().read_bytes()


def test_the_vectors_read_news_like_training_text_but_not_the_tweets_or_agreements(tmp_path: Path) -> None:
    """Tweets and agreements train the tagger; the vectors' texts leave them out (NOT_IN_VECTORS),
    and their dev files never choose the checkpoint (SELECTING)."""
    from pipeline.train_ner import CORPORA, NOT_IN_VECTORS, SELECTING, vector_corpus

    shared = tmp_path / "shared"
    (shared / "corpus" / "indosum").mkdir(parents=True)
    (shared / "corpus" / "indosum" / "articles.jsonl").write_text('{"text": "Presiden berpidato."}\n')
    (shared / "extraction" / "zyte-dev").mkdir(parents=True)
    (shared / "extraction" / "zyte-dev" / "ground_truth.json").write_text(
        '{"p": {"articleBody": "Oil fell."}}'
    )
    (shared / "extraction" / "zyte-dev" / "manifest.json").write_text('{"p": {"html_lang_attr": "en"}}')
    splits = {
        "idner-news-2k": {
            "train": [Sentence(["Joko", "Widodo", "tiba"], ["B-PER", "I-PER", "O"])],
            "dev": [],
        },
        "btc-en": {"train": [Sentence(["@BBC", "lol"], ["B-ORG", "O"])], "dev": []},
        "sec-filings-en": {"train": [Sentence(["Borrower", "shall"], ["O", "O"])], "dev": []},
    }
    lines = vector_corpus(shared, splits, tmp_path / "corpus.txt").read_text().splitlines()
    assert lines == ["Presiden berpidato .", "Oil fell .", "Joko Widodo tiba"]
    assert {p.name for p in CORPORA if p.dev_share > 0} - SELECTING == NOT_IN_VECTORS
