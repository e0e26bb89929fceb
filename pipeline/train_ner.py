"""Rebuild the committed NER model from the corpora in ``../shared/data/ner``.

Reproducible: a fixed seed in the pinned config (``training/ner.cfg``) and a deterministic,
hash-based dev carve-out for corpora that ship no dev split. The result replaces
``pipeline/models/ner`` and the scores it reaches go into that folder's MODEL_CARD.md.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
    selects: bool = True  # its dev part chooses the checkpoint; False: scored afterwards only


CORPORA: tuple[CorpusPart, ...] = (
    CorpusPart("idner-news-2k", "idner-news-2k/train.conll", 0.0),
    CorpusPart("idner-news-2k", "idner-news-2k/dev.conll", 1.0),
    CorpusPart("indolem-nerui", "indolem-nerui/train.conll", 0.0),
    CorpusPart("indolem-nerui", "indolem-nerui/dev.conll", 1.0),
    CorpusPart("indonlu-nergrit", "indonlu-nergrit/train.conll", 0.1),
    CorpusPart("uner-en-ewt", "uner-en-ewt/dev.conll", 0.3),
    # Entirely lower-cased (4 capitalised tokens in 148k); see the model card for how it is used.
    CorpusPart("indonlu-nerp", "indonlu-nerp/train.conll", 0.1),
    # English names and contexts the small EWT part lacks: tweets (many from news accounts) and
    # financial agreements. Their dev files are domain checks, not what the checkpoint serves.
    CorpusPart("btc-en", "btc-en/train.conll", 0.0),
    CorpusPart("btc-en", "btc-en/dev.conll", 1.0, selects=False),
    CorpusPart("sec-filings-en", "sec-filings-en/train.conll", 0.0),
    CorpusPart("sec-filings-en", "sec-filings-en/dev.conll", 1.0, selects=False),
)
# Dev parts that choose the checkpoint (``model-best``): Indonesian news and English web text.
SELECTING = frozenset(part.name for part in CORPORA if part.dev_share > 0 and part.selects)
# Corpora whose sentences train the tagger but stay out of the vectors' texts, which news-like
# text shapes: with tweets and agreements in them, idner-news-2k and nergrit lost about 0.01 each
# (mean of two seeds; model card, "What was tried").
NOT_IN_VECTORS = frozenset({"btc-en", "sec-filings-en"})
# Plain text for the static vectors: Indonesian news (IndoSum) plus the English pages' gold text.
VECTOR_TEXTS = ("corpus/indosum/articles.jsonl", "extraction/zyte-dev/ground_truth.json")


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


def vector_corpus(shared_data: Path, splits: dict[str, dict[str, list[Sentence]]], out: Path) -> Path:
    """One sentence or paragraph per line, spaCy-tokenised, for floret: IndoSum articles, the
    English gold texts, and the NER training sentences (never the dev parts) but those of
    NOT_IN_VECTORS."""
    import spacy

    tokenizer = spacy.blank("id").tokenizer
    with out.open("w", encoding="utf-8") as handle:
        for text in indosum_texts(shared_data):
            for paragraph in text.split("\n\n"):
                handle.write(" ".join(t.text for t in tokenizer(paragraph.strip())) + "\n")
        for text in gold_page_texts(shared_data):
            for paragraph in text.split("\n"):
                handle.write(" ".join(t.text for t in tokenizer(paragraph.strip())) + "\n")
        for name, parts in splits.items():
            for sentence in parts["train"] if name not in NOT_IN_VECTORS else ():
                handle.write(" ".join(sentence.tokens) + "\n")
    return out


def build_vectors(corpus: Path, work: Path, dim: int = 96, bucket: int = 20000) -> Path:
    """Subword (floret) vectors: every string gets a vector from its character n-grams, so
    unseen names still look like names. Returns a spaCy vectors model folder."""
    import floret
    import spacy
    from spacy.training.initialize import convert_vectors

    model = floret.train_unsupervised(
        str(corpus), model="cbow", mode="floret", hashCount=2, bucket=bucket,
        minn=3, maxn=5, minCount=3, dim=dim, epoch=5, thread=1, verbose=0,  # one thread: deterministic
    )  # fmt: skip
    floret_path = work / "vectors.floret"
    model.save_floret_vectors(str(floret_path))
    out = work / "vectors"
    nlp = spacy.blank("id")
    convert_vectors(nlp, floret_path, truncate=0, prune=-1, mode="floret")
    nlp.to_disk(out)
    return out


def indosum_texts(shared_data: Path) -> Iterator[str]:
    """IndoSum's article texts, one per article."""
    with (shared_data / VECTOR_TEXTS[0]).open(encoding="utf-8") as articles:
        for line in articles:
            yield json.loads(line)["text"]


def gold_page_texts(shared_data: Path, language: str | None = None) -> Iterator[str]:
    """The Zyte dev pages' gold text; only pages whose ``lang`` attribute names ``language``
    when it is given."""
    gold_path = shared_data / VECTOR_TEXTS[1]
    manifest = json.loads((gold_path.parent / "manifest.json").read_text(encoding="utf-8"))
    for page_id, page in json.loads(gold_path.read_text(encoding="utf-8")).items():
        if language is None or (manifest[page_id].get("html_lang_attr") or "").startswith(language):
            yield page["articleBody"]


# Fewer English texts (46 pages against 3,463 articles), so a lower count for English.
COMMON_WORD_MIN_COUNT = {"id": 10, "en": 3}


def common_word_texts(shared_data: Path, language: str) -> Iterator[str]:
    """The text each common-word list is counted on: IndoSum for Indonesian, the English pages'
    gold text for English."""
    if language not in COMMON_WORD_MIN_COUNT:
        raise ValueError(f"no common-word texts for language {language!r}")
    return indosum_texts(shared_data) if language == "id" else gold_page_texts(shared_data, language)


def build_common_words(texts: Iterable[str], out: Path, min_count: int = 10, min_lower: float = 0.3) -> Path:
    """Words the texts write in lower case at least ``min_lower`` of the time (and ``min_count``
    times): the entity rules use them to tell an office (``Menteri Tenaga Kerja``) from a name,
    and a sentence's capitalised first word (``Bulan lalu``) from one."""
    lower: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text in texts:
        for word in re.findall(r"[A-Za-z]+", text):
            total[word.lower()] += 1
            if word.islower():
                lower[word] += 1
    common = sorted(w for w, n in lower.items() if n >= min_count and n / total[w] >= min_lower)
    out.write_text("\n".join(common) + "\n", encoding="utf-8")
    return out


def build_given_names(splits: dict[str, dict[str, list[Sentence]]], out: Path) -> Path:
    """The first words of the training files' persons of two words or more (``Ed`` of ``Ed
    Sheeran``), lower-cased, one per line: the surname rule (``pipeline.enrich.canonical._surnames``) trusts
    a full name only when it starts with one. Train parts only, never dev."""
    return _write_first_words(splits, out, lambda label, length: label == "PER" and length >= 2)


def build_entity_first_words(splits: dict[str, dict[str, list[Sentence]]], out: Path) -> Path:
    """The first words of the training files' entities (``partai`` of ``Partai Golkar``, ``desa``,
    ``jokowi``), lower-cased, alphabetic, one per line: a common word that opens a sentence is
    cut from the front of an entity (``[Melansir] AFP``) only when no training entity starts
    with it (``pipeline.enrich.entity_spans``). Train parts only, never dev."""
    return _write_first_words(splits, out, lambda label, length: True)


def _write_first_words(
    splits: dict[str, dict[str, list[Sentence]]], out: Path, keep: Callable[[str, int], bool]
) -> Path:
    """Write the alphabetic first words, lower-cased and sorted, of the train parts' entities
    that ``keep(label, number of words)`` accepts."""
    words = {
        sentence.tokens[start].lower()
        for parts in splits.values()
        for sentence in parts["train"]
        for start, end, label in sentence.spans()
        if sentence.tokens[start].isalpha() and keep(label, end - start)
    }
    out.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    return out


# A bracketed word after a person (``Joko Widodo (Jokowi)``) goes on the nickname list when IndoSum
# pairs it with that name in NICKNAME_MIN_ARTICLES articles or more (and with another name in no
# more than a fifth of its pairings), the model tags it alone as a person in at least
# NICKNAME_MIN_PERSON_SHARE of NICKNAME_MIN_MENTIONS or more mentions, and it is spelled from the
# name or the pairing is frequent (``Ahok``, NICKNAME_MANY_ARTICLES). Teams, countries and film
# roles after a name (``(Ferrari)``, ``(JPN)``, ``(Marlina)``) fail one of these.
NICKNAME_MIN_ARTICLES = 2
NICKNAME_MANY_ARTICLES = 5
NICKNAME_MIN_MENTIONS = 5
NICKNAME_MIN_PERSON_SHARE = 0.8


def build_nicknames(texts: Iterable[str], model: Path, out: Path) -> Path:
    """Mine the persons' nickname list (``pipeline.enrich.known_nicknames``) from Indonesian news
    texts tagged by ``model``; one ``nickname<TAB>full name<TAB>articles`` line each."""
    from pipeline.enrich import (
        bracketed_nicknames,
        doc_mentions,
        load_model,
        one_blas_thread,
        spells_nickname,
    )

    nlp = load_model(model)
    pairings: dict[str, Counter[str]] = {}
    labels: dict[str, Counter[str]] = {}
    documents = list(texts)
    with nlp.memory_zone(), one_blas_thread():
        for text, doc in zip(documents, nlp.pipe(documents, batch_size=64), strict=True):
            mentions = list(doc_mentions(doc, "body", "id"))
            for mention in mentions:
                labels.setdefault(mention.text, Counter())[mention.label] += 1
            for name, word in set(bracketed_nicknames(mentions, {"body": text})):
                pairings.setdefault(word, Counter())[name] += 1
    rows = []
    for word, names in sorted(pairings.items()):
        (name, articles), seen = names.most_common(1)[0], labels.get(word, Counter())
        mentions_seen = sum(seen.values())
        if (
            articles >= NICKNAME_MIN_ARTICLES
            and articles >= 0.8 * sum(names.values())
            and mentions_seen >= NICKNAME_MIN_MENTIONS
            and seen["PER"] >= NICKNAME_MIN_PERSON_SHARE * mentions_seen
            and (spells_nickname(word, name) or articles >= NICKNAME_MANY_ARTICLES)
        ):
            rows.append(f"{word}\t{name}\t{articles}\n")
    header = "# nickname\tfull name\tIndoSum articles pairing them; built by `warta train ner`\n"
    out.write_text(header + "".join(rows), encoding="utf-8")
    return out


# Each cased training sentence with entities is added once more with every mention swapped for a
# random mention of the same type from these corpora: the model sees names in new contexts and
# cased text weighs more against lower-cased NER-P (idner-news-2k dev +0.02 in three runs).
CASED_CORPORA = ("idner-news-2k", "indolem-nerui", "indonlu-nergrit", "uner-en-ewt")
MENTION_SEED = 13


def mention_pools(splits: dict[str, dict[str, list[Sentence]]]) -> dict[str, list[tuple[str, ...]]]:
    """Every training mention of the cased corpora, by type (never the dev parts)."""
    pools: dict[str, list[tuple[str, ...]]] = {"PER": [], "ORG": [], "LOC": []}
    for name in CASED_CORPORA:
        for sentence in splits[name]["train"]:
            for start, end, label in sentence.spans():
                pools[label].append(tuple(sentence.tokens[start:end]))
    return pools


def replace_mentions(
    tokens: list[str],
    spans: list[tuple[int, int, str]],
    pools: dict[str, list[tuple[str, ...]]],
    rng: random.Random,
) -> tuple[list[str], list[tuple[int, int, str]]]:
    """``tokens`` with each entity replaced by a random pool mention of its type."""
    out: list[str] = []
    new_spans: list[tuple[int, int, str]] = []
    last = 0
    for start, end, label in spans:
        out.extend(tokens[last:start])
        mention = rng.choice(pools[label])
        new_spans.append((len(out), len(out) + len(mention), label))
        out.extend(mention)
        last = end
    out.extend(tokens[last:])
    return out, new_spans


KEEP = ("MODEL_CARD.md", "licenses")  # documentation that lives with the model, not built by training


def install_model(trained: Path, output: Path) -> None:
    """Replace the model files at ``output`` with ``trained``, keeping its card and licenses."""
    with tempfile.TemporaryDirectory(prefix="warta-keep-") as keep:
        for name in KEEP:
            if (output / name).exists():
                shutil.move(str(output / name), Path(keep) / name)
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(trained, output)
        _blank_paths(output / "config.cfg")
        for name in KEEP:
            if (Path(keep) / name).exists():
                shutil.move(str(Path(keep) / name), output / name)


def _blank_paths(config_path: Path) -> None:
    """Null the ``[paths]`` section: it names the training run's temporary files, which loading
    never reads and which would otherwise make every rebuild's config differ."""
    from thinc.api import Config

    config = Config().from_disk(config_path, interpolate=False)
    config["paths"] = {key: None for key in config["paths"]}
    config.to_disk(config_path)


def train(
    data_dir: Path,
    output: Path = MODEL_DIR,
    max_steps: int | None = None,
    extra_overrides: dict[str, object] | None = None,
    splits: dict[str, dict[str, list[Sentence]]] | None = None,
) -> Path:
    """Train on the train parts, select on the SELECTING dev parts, install the best model at ``output``
    (``splits``: ``split_corpora(data_dir)``, when the caller has read them already)."""
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import Doc, DocBin, Span

    splits = splits if splits is not None else split_corpora(data_dir)
    pools = mention_pools(splits)
    rng = random.Random(MENTION_SEED)
    nlp = spacy.blank("id")
    with tempfile.TemporaryDirectory(prefix="warta-ner-") as tmp:
        work = Path(tmp)
        vectors = build_vectors(vector_corpus(data_dir.parent, splits, work / "corpus.txt"), work)
        for split in ("train", "dev"):
            bin_ = DocBin(store_user_data=False)
            for name, parts in splits.items():
                for sentence in parts[split] if split == "train" or name in SELECTING else ():
                    tokens, spans = sentence.tokens, sentence.spans()
                    copies = [(tokens, spans)]
                    if split == "train" and name in CASED_CORPORA and spans:
                        copies.append(replace_mentions(tokens, spans, pools, rng))
                    for words, ents in copies:
                        doc = Doc(nlp.vocab, words=words)
                        doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
                        bin_.add(doc)
            bin_.to_disk(work / f"{split}.spacy")
        overrides: dict[str, object] = {
            "paths.train": str(work / "train.spacy"),
            "paths.dev": str(work / "dev.spacy"),
            "paths.vectors": str(vectors),
        }
        if max_steps is not None:
            overrides["training.max_steps"] = max_steps
        overrides.update(extra_overrides or {})
        spacy_train(CONFIG_PATH, work / "out", overrides=overrides)
        install_model(work / "out" / "model-best", output)
    counts = {name: {split: len(sents) for split, sents in parts.items()} for name, parts in splits.items()}
    (output / "training_data.json").write_text(json.dumps(counts, indent=2) + "\n")
    return output
