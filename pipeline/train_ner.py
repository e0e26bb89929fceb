"""Rebuild the committed NER model from the corpora in ``../shared/data/ner``.

Reproducible: a fixed seed in the pinned config (``training/ner.cfg``) and a deterministic,
hash-based dev carve-out for corpora that ship no dev split. The result replaces
``pipeline/models/ner`` and the scores it reaches go into that folder's MODEL_CARD.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.conll import Sentence, read_conll

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_ROOT / "training" / "ner.cfg"
MODEL_DIR = Path(__file__).resolve().parent / "models" / "ner"


@dataclass(frozen=True, slots=True)
class CorpusPart:
    """One corpus file and how it is used: all for training, all for dev, or split by hash."""

    name: str
    file: str
    dev_share: float  # 0.0: all train; 1.0: all dev; otherwise a hash-based carve-out


# indonlu-nerp is left out: it is entirely lower-cased (see the model card) and would teach the
# model to ignore capitalisation, which is the strongest cue in real, cased news.
CORPORA: tuple[CorpusPart, ...] = (
    CorpusPart("idner-news-2k", "idner-news-2k/train.conll", 0.0),
    CorpusPart("idner-news-2k", "idner-news-2k/dev.conll", 1.0),
    CorpusPart("indolem-nerui", "indolem-nerui/train.conll", 0.0),
    CorpusPart("indolem-nerui", "indolem-nerui/dev.conll", 1.0),
    CorpusPart("indonlu-nergrit", "indonlu-nergrit/train.conll", 0.1),
    CorpusPart("uner-en-ewt", "uner-en-ewt/dev.conll", 0.3),
)


def in_dev(sentence: Sentence, share: float) -> bool:
    """Stable carve-out: the same sentence always lands on the same side."""
    if share <= 0.0:
        return False
    if share >= 1.0:
        return True
    digest = hashlib.sha1(" ".join(sentence.tokens).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def split_corpora(data_dir: Path) -> dict[str, dict[str, list[Sentence]]]:
    """{corpus: {"train": [...], "dev": [...]}} for every part in CORPORA."""
    splits: dict[str, dict[str, list[Sentence]]] = {}
    for part in CORPORA:
        target = splits.setdefault(part.name, {"train": [], "dev": []})
        for sentence in read_conll(data_dir / part.file):
            target["dev" if in_dev(sentence, part.dev_share) else "train"].append(sentence)
    return splits


def write_dev_files(splits: dict[str, dict[str, list[Sentence]]], out_dir: Path) -> list[Path]:
    """Write each corpus's dev part as CoNLL (what ``warta eval ner`` reads)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, parts in splits.items():
        path = out_dir / f"{name}.dev.conll"
        with path.open("w", encoding="utf-8") as handle:
            for sentence in parts["dev"]:
                for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
                    handle.write(f"{token}\t{tag}\n")
                handle.write("\n")
        paths.append(path)
    return paths


def train(data_dir: Path, output: Path = MODEL_DIR, max_steps: int | None = None) -> Path:
    """Train on the train parts, select on the dev parts, install the best model at ``output``."""
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import Doc, DocBin, Span

    splits = split_corpora(data_dir)
    nlp = spacy.blank("id")
    with tempfile.TemporaryDirectory(prefix="warta-ner-") as tmp:
        work = Path(tmp)
        for split in ("train", "dev"):
            bin_ = DocBin(store_user_data=False)
            for parts in splits.values():
                for sentence in parts[split]:
                    doc = Doc(nlp.vocab, words=sentence.tokens)
                    doc.ents = [Span(doc, s, e, label=label) for s, e, label in sentence.spans()]
                    bin_.add(doc)
            bin_.to_disk(work / f"{split}.spacy")
        overrides: dict[str, object] = {
            "paths.train": str(work / "train.spacy"),
            "paths.dev": str(work / "dev.spacy"),
        }
        if max_steps is not None:
            overrides["training.max_steps"] = max_steps
        spacy_train(CONFIG_PATH, work / "out", overrides=overrides)
        best = work / "out" / "model-best"
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(best, output)
    counts = {name: {split: len(sents) for split, sents in parts.items()} for name, parts in splits.items()}
    (output / "training_data.json").write_text(json.dumps(counts, indent=2) + "\n")
    return output
