"""Entity tagging with the committed model, and within-article canonical names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.enrich import canonicalise, known_nicknames, tag_articles
from pipeline.gazetteer import canonical_place
from pipeline.records import Article, Entity
from pipeline.settings import INDOSUM_ARTICLES, get_settings


def _seed_article(seeds_dir: Path) -> Article:
    lines = (seeds_dir / "000_42c65bd1df09fd07.txt").read_text().splitlines()
    return Article(
        id="seed",
        input_id="seed",
        source="seeds",
        title=lines[0],
        body="\n\n".join(lines[1:]),
        language="id",
        ingested_at=datetime.now(UTC),
    )


def _rule_spans(
    words: list[str], ents: tuple[tuple[int, int, str], ...] = (), language: str = "id"
) -> list[tuple[int, int, str]]:
    """``entity_spans`` on a doc whose "model" entities are ``ents``: each rule in isolation."""
    import spacy
    from spacy.tokens import Doc, Span

    from pipeline.enrich import entity_spans

    doc = Doc(spacy.blank(language).vocab, words=words)
    doc.ents = [Span(doc, start, end, label=label) for start, end, label in ents]
    return entity_spans(doc, language)


def test_seed_article_people_and_places(seeds_dir: Path) -> None:
    (tagged,) = tag_articles([_seed_article(seeds_dir)], get_settings().ner_model)
    persons = tagged.canonical_names("PER")
    places = tagged.canonical_names("LOC")
    # All six people of the seed, each under one canonical name (later ``Putin`` joins it).
    for name in (
        "Vladimir Putin",
        "Donald Trump",
        "Joe Biden",
        "Sergei Lavrov",
        "Sonata Coulter",
        "Alexander Darchiyev",
    ):
        assert name in persons, (name, persons)
    assert "Putin" not in persons and "Lavrov" not in persons
    for place in ("Istanbul", "Washington", "Ukraine", "Moscow", "Russia", "Türkiye"):
        assert place in places
    # AS and Amerika Serikat are one place, counted once, under its canonical name.
    as_mentions = {e.text for e in tagged.entities if e.canonical == "United States"}
    assert {"AS", "Amerika Serikat"} <= as_mentions
    assert places.count("United States") == 1 and "AS" not in places
    assert "Ukraina" not in persons
    # Offsets point at the mention in its field.
    for entity in tagged.entities:
        text = tagged.body if entity.field == "body" else tagged.title
        assert text[entity.start : entity.end] == entity.text
    # A canonical name differs from its mention only for a partial person name, a nickname or a
    # known place.
    for entity in tagged.entities:
        if entity.canonical != entity.text:
            if entity.label == "PER":
                assert (
                    entity.text in entity.canonical or known_nicknames().get(entity.text) == entity.canonical
                )
            else:
                assert entity.label == "LOC" and canonical_place(entity.text) == entity.canonical


def test_the_outlets_dateline_credit_is_no_entity_its_mentions_in_the_text_are() -> None:
    def article(body: str, language: str) -> Article:
        return Article(
            id=language,
            input_id=language,
            source="t",
            title="",
            body=body,
            language=language,
            ingested_at=datetime.now(UTC),
        )

    indonesian = "Jakarta (ANTARA News) - Presiden Joko Widodo bertemu Retno Marsudi, kata Reuters."
    english = "NEW YORK (Reuters) - Oil prices fell on Tuesday, Reuters reported."
    tagged = list(tag_articles([article(indonesian, "id"), article(english, "en")], get_settings().ner_model))
    organisations = [[(e.text, e.start) for e in t.entities if e.label == "ORG"] for t in tagged]
    assert organisations == [
        [("Reuters", indonesian.rindex("Reuters"))],
        [("Reuters", english.rindex("Reuters"))],
    ]
    assert ("Jakarta", "LOC") in {(e.text, e.label) for e in tagged[0].entities}  # the place stays
    # The credit before the place, whatever type the model gives it; a person the opening names
    # between commas, before a hyphenated word, is no credit.
    credit_first = "JUARA.NET, TOKYO - Pasangan ganda putra Indonesia, Marcus Fernaldi Gideon, menang."
    not_a_dateline = "Ketua Umum Partai Gerindra, Prabowo Subianto, turut memperingati HUT ke-72 RI."
    tagged = list(
        tag_articles([article(credit_first, "id"), article(not_a_dateline, "id")], get_settings().ner_model)
    )
    assert "JUARA.NET" not in {e.text for e in tagged[0].entities}
    assert ("Marcus Fernaldi Gideon", "PER") in {(e.text, e.label) for e in tagged[0].entities}
    assert ("Prabowo Subianto", "PER") in {(e.text, e.label) for e in tagged[1].entities}


def test_canonicalise_joins_partial_person_names_only() -> None:
    def ent(text: str, label: str = "PER") -> Entity:
        return Entity(text=text, label=label, field="body", start=0, end=len(text), canonical=text)  # type: ignore[arg-type]

    out = canonicalise(
        [ent("Sergei Lavrov"), ent("Lavrov"), ent("Sergei"), ent("Sergei", "ORG"), ent("Biden")]
    )
    assert [e.canonical for e in out] == [
        "Sergei Lavrov",
        "Sergei Lavrov",
        "Sergei Lavrov",
        "Sergei",  # an organisation is no partial name (only a surname alone is; next test)
        "Biden",
    ]
    # Equally full names: the one named first, whatever the order of the process's string hashes.
    for first, second in (("Aji Santoso", "Aji Arema"), ("Aji Arema", "Aji Santoso")):
        out = canonicalise([ent(first), ent(second), ent("Aji")])
        assert out[2].canonical == first


def test_a_place_or_organisation_that_is_a_named_persons_surname_is_that_person() -> None:
    def ent(text: str, label: str) -> Entity:
        return Entity(text=text, label=label, field="body", start=0, end=len(text), canonical=text)  # type: ignore[arg-type]

    out = canonicalise([ent("Mario Balotelli", "PER"), ent("Balotelli", "LOC"), ent("Balotelli", "ORG")])
    assert [(e.label, e.canonical) for e in out] == [("PER", "Mario Balotelli")] * 3
    # Not when the "person" starts with no given name (a health office), when the word is a known
    # place, nor when two persons share the surname.
    mentions = [ent("Dinkes Banten", "PER"), ent("Banten", "LOC"), ent("Ed Portugal", "PER")]
    mentions += [
        ent("Portugal", "LOC"),
        ent("Ashley Cole", "PER"),
        ent("Andy Cole", "PER"),
        ent("Cole", "ORG"),
    ]
    out = canonicalise(mentions)
    assert [(e.label, e.canonical) for e in out][1:4:2] == [("LOC", "Banten"), ("LOC", "Portugal")]
    assert (out[-1].label, out[-1].canonical) == ("ORG", "Cole")


def test_english_text_marks_known_places_the_model_left_untagged() -> None:
    words = ["Talks", "between", "the", "United", "States", "and", "Moscow", "resumed", "in", "april", "."]
    # no entities at all: only the rule can find these
    assert _rule_spans(words, language="en") == [(3, 5, "LOC"), (6, 7, "LOC")]
    assert _rule_spans(words, language="id") == []  # Indonesian dev data does not support the rule
    assert _rule_spans(["united", "states"], language="en") == []  # capitalised only


def test_a_lower_case_entity_is_no_entity_in_cased_text_only() -> None:
    cased = ["Kursi", "itu", "kosong", "di", "Jakarta"]
    assert _rule_spans(cased, ((2, 3, "LOC"), (4, 5, "LOC"))) == [(4, 5, "LOC")]
    lower = ["presiden", "jokowi", "di", "jakarta"]
    assert _rule_spans(lower, ((1, 2, "PER"), (3, 4, "LOC"))) == [(1, 2, "PER"), (3, 4, "LOC")]
    # Several words, or a hyphenated one, likewise; a known place written in lower case stays.
    cased = ["Di", "jalan", "raya", "tim-tim", "dari", "korea", "utara", "datang"]
    assert _rule_spans(cased, ((1, 3, "LOC"), (3, 4, "PER"), (5, 7, "LOC"))) == [(5, 7, "LOC")]


def test_capitalised_words_after_an_office_title_are_a_person_when_the_model_found_none() -> None:
    def spans(text: str, ents: tuple[tuple[int, int, str], ...] = ()) -> list[str]:
        words = text.split()
        return [f"{' '.join(words[s:e])}/{label}" for s, e, label in _rule_spans(words, ents)]

    assert spans("dipimpin Wakil Asisten Menteri Luar Negeri Sonata Coulter , dan") == ["Sonata Coulter/PER"]
    # The country between title and name is not part of the name.
    assert spans("Presiden Perancis Jaques Chirac , seorang teman") == ["Jaques Chirac/PER"]
    # An office's own words (common lower-case words, ministry portfolios) are no name.
    assert spans("Menteri Tenaga Kerja dan Transmigrasi") == []
    assert spans("Peraturan Menteri Perhubungan Nomor PM 38") == []
    # A name the model found is left as the model tagged it; no title, no rule.
    assert spans("Menteri Sonata Coulter hadir", ((1, 3, "ORG"),)) == ["Sonata Coulter/ORG"]
    assert spans("dipimpin Sonata Coulter , dan") == []


def test_a_name_word_right_after_a_regional_office_is_a_place_when_the_model_found_none() -> None:
    def spans(text: str, ents: tuple[tuple[int, int, str], ...] = (), language: str = "id") -> list[str]:
        words = text.split()
        return [f"{' '.join(words[s:e])}/{label}" for s, e, label in _rule_spans(words, ents, language)]

    # ``Gubernur DKI Jakarta Anies Baswedan``: the region, up to the person the model found.
    assert spans("kata Gubernur DKI Jakarta Anies Baswedan", ((4, 6, "PER"),)) == [
        "DKI Jakarta/LOC",
        "Anies Baswedan/PER",
    ]
    assert spans("pemilihan Wali Kota Malang , kemarin") == ["Malang/LOC"]
    # A region's acronym joins the place the model found after it.
    assert spans("kata Kapolda DI Yogyakarta Brigjen", ((3, 4, "LOC"),)) == ["DI Yogyakarta/LOC"]
    assert spans("jelang Pilkada DKI 2017 putaran kedua") == ["DKI/LOC"]
    assert spans("kata Kapolres Jember AKBP Kusworo Wibowo", ((4, 6, "PER"),)) == [
        "Jember/LOC",  # a rank ends the place
        "Kusworo Wibowo/PER",
    ]
    # Two untagged name words are a person the model missed (the title rule takes them), not a
    # place; nor is a month, a lower-case word, or anything in English text.
    assert spans("suap kepada Gubernur Annas Makmun , katanya") == ["Annas Makmun/PER"]
    assert spans("Pilkada Oktober nanti") == []
    assert spans("kata Gubernur Baru itu") == []
    assert spans("said Governor Newsom and Pilkada Blitar", language="en") == []


def test_place_extends_over_a_capitalised_word_before_it_and_english_names_end_capitalised() -> None:
    words = ["Talks", "with", "North", "Korea", "ended", ",", "Griffin", "said"]
    ents = ((3, 4, "LOC"), (6, 8, "PER"))
    assert _rule_spans(words, ents, "en") == [(2, 4, "LOC"), (6, 7, "PER")]
    # Indonesian keeps lower-case words inside names as the model tagged them.
    assert _rule_spans(words, ents, "id") == [(2, 4, "LOC"), (6, 8, "PER")]
    # Not over a lower-case word, nor into the entity before.
    assert _rule_spans(["north", "Korea"], ((1, 2, "LOC"),), "en") == [(1, 2, "LOC")]
    # Nor do they start with a common word in lower case; a name's particle stays (``al``).
    words = ["He", "met", "analyst", "Ken", "Smith", "of", "al", "-", "Qaida", "."]
    ents = ((2, 5, "PER"), (6, 9, "ORG"))
    assert _rule_spans(words, ents, "en") == [(3, 5, "PER"), (6, 9, "ORG")]
    assert _rule_spans(words, ents, "id") == [(2, 5, "PER"), (6, 9, "ORG")]


def test_person_or_organisation_whose_whole_name_is_a_place_becomes_a_place() -> None:
    words = ["Ukraina", "dan", "Sergei", "Lavrov", "di", "U.S", "dan"]
    words += ["Kementerian", "Luar", "Negeri", "Rusia"]
    ents = ((0, 1, "PER"), (2, 4, "PER"), (5, 6, "ORG"), (7, 11, "ORG"))
    # Only a whole place name: the ministry keeps its label although it ends in one.
    assert _rule_spans(words, ents) == [(0, 1, "LOC"), (2, 4, "PER"), (5, 6, "LOC"), (7, 11, "ORG")]


def test_english_the_before_a_known_place_is_cut_and_the_span_is_a_place() -> None:
    words = ["The", "U.S", "will", "keep", "The", "Guardian", "informed"]
    ents = ((0, 2, "ORG"), (4, 6, "ORG"))
    assert _rule_spans(words, ents, "en") == [(1, 2, "LOC"), (4, 6, "ORG")]  # not a place: kept whole
    assert _rule_spans(words, ents, "id") == [(0, 2, "ORG"), (4, 6, "ORG")]  # English only


def test_model_multiplies_with_numpy_on_one_thread_while_tagging() -> None:
    """The speed choice in ``load_model`` (numpy's OpenBLAS, not thinc's BLIS) reaches every layer,
    and tagging holds OpenBLAS to one thread (one worker per core)."""
    from threadpoolctl import threadpool_info

    from pipeline.enrich import load_model, one_blas_thread

    nlp = load_model(get_settings().ner_model)
    for _, component in nlp.pipeline:
        assert all(not getattr(node.ops, "use_blis", True) for node in component.model.walk())
    with one_blas_thread():
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_load_model_tokenises_exactly_as_spacy_load_does() -> None:
    """``load_model`` builds the saved tokenizer itself, its special cases loaded once, and swaps
    spaCy's prefix ``search`` for ``match`` (speed); tokens and what the model reads of them must
    not change, including the one unanchored Indonesian rule, ``<a([^>]+)>``, anywhere in a word,
    and the special cases (reduplications, abbreviations with a norm)."""
    import json

    import spacy
    from spacy.tokens import Doc

    from pipeline.enrich import load_model

    path = get_settings().ner_model
    fast_nlp, plain_nlp = load_model(path), spacy.load(path)
    fast, plain = fast_nlp.tokenizer, plain_nlp.tokenizer
    assert fast.prefix_search is not plain.prefix_search  # type: ignore[attr-defined]
    assert fast_nlp.config["nlp"]["tokenizer"] == plain_nlp.config["nlp"]["tokenizer"]  # saves as before
    texts = [
        "Pondok-pondok, (rumah-rumah) PUTUSAN-PUTUSAN pada 3 Jan. dan jum'at; Drs. Ali, S.H. datang.",
        "x<ahref>",  # spaCy's whitespace split comes first: the rule sees one word at a time
        "<ahref>kata",
        "kata<ab='c'>d</a>",
        "(<ax>)",
        "US$5 dan Rp10.000,-",
        '"(Jakarta)" ...dan —kata «kata» <b/>x +62 812',
    ]
    corpus = INDOSUM_ARTICLES
    with corpus.open(encoding="utf-8") as lines:
        texts += [json.loads(next(lines))["text"] for _ in range(300)]

    def read(doc: Doc) -> list[tuple[str, int, str, str, str, str]]:
        return [(t.text, t.idx, t.norm_, t.prefix_, t.suffix_, t.shape_) for t in doc]

    for text in texts:
        assert read(fast(text)) == read(plain(text))
    assert fast.to_bytes() == plain.to_bytes()  # type: ignore[attr-defined]  # rules serialise as before


def test_a_common_word_tagged_only_because_it_opens_a_sentence_is_no_entity() -> None:
    def spans(words: list[str], ents: tuple[tuple[int, int, str], ...], language: str = "id") -> list[str]:
        return [" ".join(words[s:e]) for s, e, _ in _rule_spans(words, ents, language)]

    words = ["Bulan", "lalu", "Joko", "pergi", ".", '"', "Memasuki", "musim", "ini", "berat", "."]
    assert spans(words, ((0, 1, "LOC"), (2, 3, "PER"), (6, 7, "PER"))) == ["Joko"]
    # A dateline, an acronym and a common word inside a sentence stay as the model tagged them.
    assert spans(["Serang", ",", "Banten", "(", "ANTARA", ")", "-"], ((0, 1, "LOC"),)) == ["Serang"]
    assert spans(["BIG", "merupakan", "badan"], ((0, 1, "ORG"),)) == ["BIG"]
    assert spans(["kata", "Bulan", "lalu"], ((1, 2, "PER"),)) == ["Bulan"]
    # Each language has its own list: English drops its own common words, not Indonesian ones.
    assert spans(["Instead", ",", "they", "left", "."], ((0, 1, "PER"),), "en") == []
    assert spans(["Bulan", "lalu"], ((0, 1, "LOC"),), "en") == ["Bulan"]


def test_a_common_word_that_opens_a_sentence_is_cut_from_the_front_of_an_entity() -> None:
    words = ["Melansir", "AFP", ",", "Partai", "Golkar", "menang", ".", "Nasib", "Sergio", "Aguero"]
    words += [".", "Bek", "Portugal", "kata", "Bek", "Lazio", "."]
    ents = ((0, 2, "PER"), (3, 5, "ORG"), (7, 10, "PER"), (11, 13, "PER"), (14, 16, "PER"))
    out = [(" ".join(words[s:e]), label) for s, e, label in _rule_spans(words, ents)]
    assert out == [
        ("AFP", "ORG"),  # "citing AFP": cut, then the outlet after a verb of citing
        ("Partai Golkar", "ORG"),  # ``partai`` starts training entities: a head, not a common word
        ("Sergio Aguero", "PER"),  # "the fate of"
        ("Portugal", "LOC"),  # "defender Portugal": what is left is a known place
        ("Bek Lazio", "PER"),  # inside a sentence the model's reading stays
    ]


def test_a_club_suffix_tagged_alone_takes_in_the_club_name_before_it() -> None:
    words = ["Pertandingan", "Arema", "FC", "melawan", "Mitra", "Kukar", ",", "kata", "pemain", "Borneo"]
    words += ["FC", "dan", "Pemain", "Hull", "City", "."]
    ents = ((2, 3, "ORG"), (4, 6, "ORG"), (10, 11, "ORG"), (14, 15, "ORG"))
    out = [" ".join(words[s:e]) for s, e, _ in _rule_spans(words, ents)]
    # Not the common words before the name (``Pertandingan``, "match"; ``Pemain``, "player").
    assert out == ["Arema FC", "Mitra Kukar", "Borneo FC", "Hull City"]
    # Lower-cased text has no name words to take in.
    lower = [w.lower() for w in words]
    assert [" ".join(lower[s:e]) for s, e, _ in _rule_spans(lower, ents)] == [
        "fc",
        "mitra kukar",
        "fc",
        "city",
    ]


def test_the_outlet_after_an_indonesian_verb_of_citing_is_an_organisation() -> None:
    words = str.split(
        "Seperti dilansir Marca , Zidane senang . Dikutip dari Travel and Leisure pada Kamis ( 20/4 ) ,"
        " dikutip Rabu ( 5/7 ) dan dikutip dari Laporan itu . Prof. Made Astawan berkata , seperti"
        " dilansir Made menjelaskan ."
    )
    ents = ((2, 3, "PER"), (4, 5, "PER"), (30, 32, "PER"), (36, 37, "PER"))
    out = [(" ".join(words[s:e]), label) for s, e, label in _rule_spans(words, ents)]
    assert out == [
        ("Marca", "ORG"),  # the model's person
        ("Zidane", "PER"),
        ("Travel and Leisure", "ORG"),  # untagged by the model; not the day after it
        # not a day (``dikutip Rabu``, "quoted on Wednesday") nor a common word (``Laporan``)
        ("Made Astawan", "PER"),
        ("Made", "PER"),  # a word of a person named in full
    ]
    # English text has its own verbs; the Indonesian ones do not apply.
    assert [label for _, _, label in _rule_spans(words, ents, language="en")][:1] == ["PER"]


def test_a_person_takes_in_the_hyphenated_second_half_of_a_korean_given_name() -> None:
    words = str.split(
        "Aktor Song Joong - ki dan Park Geun - hye , Sipiso - piso , Jokowi - yang hadir - dan Lee - Hi"
        " , Kim Jong - un"
    )
    ents = ((1, 3, "PER"), (6, 8, "PER"), (11, 12, "PER"), (15, 16, "PER"), (21, 22, "PER"), (25, 28, "PER"))
    out = [" ".join(words[s:e]) for s, e, _ in _rule_spans(words, ents)]
    # Not a reduplication (``Sipiso-piso``), a common word after a dash (``yang``) nor a capital;
    # but a common word (``un``) when the model's person already ends in the hyphen.
    assert out == ["Song Joong - ki", "Park Geun - hye", "Sipiso", "Jokowi", "Lee", "Kim Jong - un"]
    # Lower-cased text (NER-P) writes pairs of persons so: ``jokowi - jk`` are two.
    lower = [w.lower() for w in words]
    assert [" ".join(lower[s:e]) for s, e, _ in _rule_spans(lower, ents)][:2] == ["song joong", "park geun"]


def test_a_name_ending_in_a_companys_legal_form_is_an_organisation_as_is_its_short_name() -> None:
    words = str.split("Alphabet Inc dan Umbrella Corporation , PT Nusaphala Persada Tbk ; Ceres Robotics Inc")
    ents = ((0, 2, "PER"), (3, 5, "LOC"), (7, 10, "LOC"), (11, 14, "ORG"))
    assert [label for _, _, label in _rule_spans(words, ents)] == ["ORG", "ORG", "ORG", "ORG"]
    assert [label for _, _, label in _rule_spans(["Inc"], ((0, 1, "PER"),))] == ["PER"]  # no name before it

    # The model missed it: capitalised words before a legal form; not a title or common word.
    words = str.split(
        "helikopter dari Conocophilips Indonesia Inc . Ketua Dewan Direksi Ortus Holdings , Laporan Inc"
    )
    out = [(" ".join(words[s:e]), label) for s, e, label in _rule_spans(words)]
    assert out == [("Conocophilips Indonesia Inc", "ORG"), ("Ortus Holdings", "ORG")]
    words = str.split("PT Marga Abhinaya Tbk dan Grup B")  # not ``Grup``: a round of a tournament
    assert _rule_spans(words, ((0, 3, "ORG"),)) == [(0, 4, "ORG")]

    body = "Ceres Robotics Inc dan Ceres Robotics; Ceres hadir."

    def ent(text: str, label: str, after: int = 0) -> Entity:
        start = body.index(text, after)
        end = start + len(text)
        return Entity(text=text, label=label, field="body", start=start, end=end, canonical=text)  # type: ignore[arg-type]

    mentions = [
        ent("Ceres Robotics Inc", "ORG"),
        ent("Ceres Robotics", "PER", after=5),
        ent("Ceres", "PER", after=30),
    ]
    assert [(m.label, m.canonical) for m in canonicalise(mentions, {"body": body})] == [
        ("ORG", "Ceres Robotics Inc"),
        ("ORG", "Ceres Robotics Inc"),  # the company without its legal form, read as a person
        ("PER", "Ceres"),  # a shorter part is left: it may be a person
    ]


def test_an_indonesian_clubs_contraction_read_as_a_person_is_an_organisation() -> None:
    words = str.split("Persija Jakarta menang , Persija senang , kata Persson dan Tim Persiapan .")
    ents = ((0, 2, "PER"), (4, 5, "PER"), (8, 9, "PER"), (11, 12, "PER"))
    assert [label for _, _, label in _rule_spans(words, ents)] == ["ORG", "ORG", "PER", "PER"]
    # Nor in English text.
    assert [label for _, _, label in _rule_spans(words, ents, language="en")][:2] == ["PER", "PER"]


def test_an_english_nationality_alone_is_no_entity() -> None:
    words = ["The", "American", "envoy", "met", "Italian", "Airlines", "staff"]
    ents = ((1, 2, "ORG"), (4, 6, "ORG"))
    assert _rule_spans(words, ents, "en") == [(4, 6, "ORG")]  # a name that starts with one stays
    assert _rule_spans(words, ents, "id") == [(1, 2, "ORG"), (4, 6, "ORG")]


def test_a_rank_honorific_or_exclamation_alone_is_no_entity() -> None:
    words = ["said", "Cmdr.", "Sean", "Robertson", "and", "Pak", "Joko", "of", "the", "MS", "team"]
    ents = ((1, 2, "ORG"), (2, 4, "PER"), (5, 6, "PER"), (6, 7, "PER"), (9, 10, "ORG"))
    for language in ("en", "id"):  # the acronym MS stays
        assert _rule_spans(words, ents, language) == [(2, 4, "PER"), (6, 7, "PER"), (9, 10, "ORG")]
    # Indonesian ranks in any case, heads of a unit and Islamic expressions; not ``Amin``, a name.
    words = ["kata", "Kabid", "Humas", "Kombes", "Argo", "Yuwono", "dan", "AKBP", "Budi", "."]
    words += ["Alhamdulillah", ",", "kata", "Amin"]
    ents = ((1, 2, "PER"), (3, 4, "ORG"), (4, 6, "PER"), (7, 8, "ORG"), (10, 11, "PER"), (13, 14, "PER"))
    assert _rule_spans(words, ents, "id") == [(4, 6, "PER"), (13, 14, "PER")]
    # An organisation or place gives up the rank of the officer named after it; ``Jalan Jenderal``
    # and ``Masjid Besar`` keep their last word.
    words = ["kata", "Polda", "Metro", "Jaya", "Komisaris", "Besar", "Argo", "Yuwono", "di", "Jalan"]
    words += ["Jenderal", "Sudirman", "dan", "Masjid", "Besar"]
    ents = ((1, 6, "ORG"), (6, 8, "PER"), (9, 11, "LOC"), (13, 15, "LOC"))
    assert _rule_spans(words, ents, "id") == [(1, 4, "ORG"), (6, 8, "PER"), (9, 11, "LOC"), (13, 15, "LOC")]
    # After a regional office, a rank ends the place as it did when the model tagged the rank.
    words = ["kata", "Kapolres", "Jaktim", "Kombes", "Andry", "Wibowo"]
    assert _rule_spans(words, ((3, 4, "ORG"), (4, 6, "PER")), "id") == [(2, 3, "LOC"), (4, 6, "PER")]


def test_a_title_a_common_noun_or_a_common_word_with_its_enclitic_alone_is_no_entity() -> None:
    words = str.split("kata Sekda , Ormas itu dibubarkan . Rinciannya , di Kenya dan Instagramnya")
    ents = ((1, 2, "PER"), (3, 4, "PER"), (7, 8, "PER"), (10, 11, "LOC"), (12, 13, "LOC"))
    # ``Kenya`` is a place, ``Instagram`` no common word: both stay.
    assert _rule_spans(words, ents, "id") == [(10, 11, "LOC"), (12, 13, "LOC")]
    assert _rule_spans(words, ents, "en")[0] == (7, 8, "PER")  # the enclitic is Indonesian


def test_a_holiday_or_the_fasting_month_is_no_entity_in_indonesian() -> None:
    words = ["Selama", "Bulan", "Ramadan", "dan", "Idul", "Fitri", ",", "kata", "Ramadhan", "Pohan"]
    ents = ((1, 3, "LOC"), (4, 6, "PER"), (8, 10, "PER"))
    assert _rule_spans(words, ents, "id") == [(8, 10, "PER")]  # a name that starts with one stays
    assert _rule_spans(["kata", "Ramadhan", "."], ((1, 2, "PER"),), "id") == [(1, 2, "PER")]  # a name too
    assert _rule_spans(["in", "Natal", ","], ((1, 2, "LOC"),), "en") == [(1, 2, "LOC")]  # Indonesian only


def test_a_law_is_no_entity_in_indonesian() -> None:
    words = ["Pasal", "KUHP", "dan", "Perppu", "Ormas", "digugat", "ke", "MK", "oleh", "UU", "Watch"]
    ents = ((1, 2, "ORG"), (3, 5, "PER"), (7, 8, "ORG"), (9, 11, "ORG"))
    assert [" ".join(words[s:e]) for s, e, _ in _rule_spans(words, ents, "id")] == ["MK"]
    assert _rule_spans(["the", "KUHP"], ((1, 2, "ORG"),), "en") == [(1, 2, "ORG")]  # Indonesian only


def test_a_bracketed_abbreviation_glued_into_one_token_joins_the_organisation_or_place_before_it() -> None:
    words = ["oleh", "Komisi", "Pemilihan", "Umum", "(KPU)", "dan", "PT", "Pertamina", "(Persero)"]
    words += ["kata", "Joko", "Widodo", "(Jokowi)", ",", "Rabu", "(24/8)"]
    ents = ((1, 4, "ORG"), (4, 5, "ORG"), (6, 8, "ORG"), (10, 12, "PER"), (12, 13, "PER"))
    # Into organisations and places (the abbreviation's own entity goes), not persons, not dates.
    assert _rule_spans(words, ents) == [(1, 5, "ORG"), (6, 9, "ORG"), (10, 12, "PER"), (12, 13, "PER")]
    # spaCy's own tokens keep brackets apart, so articles are untouched; and an entity that
    # starts with the abbreviation and goes on stays whole.
    split = ["Komisi", "Pemilihan", "Umum", "(", "KPU", ")"]
    assert _rule_spans(split, ((0, 3, "ORG"), (4, 5, "ORG"))) == [(0, 3, "ORG"), (4, 5, "ORG")]
    glued_on = ["Komisi", "Umum", "(KPU)", "Jakarta"]
    assert _rule_spans(glued_on, ((0, 2, "ORG"), (2, 4, "LOC"))) == [(0, 2, "ORG"), (2, 4, "LOC")]


def test_an_organisation_the_article_abbreviates_takes_the_abbreviation_as_canonical_name() -> None:
    body = (
        "Komisi Pemberantasan Korupsi (KPK) memeriksa PT Liga Indonesia Baru ( LIB ). Kata KPK, "
        "Komisi Pemberantasan Korupsi menemukan Honda (RC213V), Facebook Inc (FB.O) dan PT Pertamina "
        "(Persero). Kementerian Badan Usaha Milik Negara (BUMN) dan Joko Widodo (JW) hadir di "
        "Kompas Gramedia (Kompas)."
    )

    def ent(text: str, label: str = "ORG", after: int = 0) -> Entity:
        start = body.index(text, after)
        end = start + len(text)
        return Entity(text=text, label=label, field="body", start=start, end=end, canonical=text)  # type: ignore[arg-type]

    names = ["Komisi Pemberantasan Korupsi", "PT Liga Indonesia Baru", "KPK"]
    mentions = [ent(name) for name in names]
    mentions.append(ent("Komisi Pemberantasan Korupsi", after=60))  # a later mention, no brackets
    mentions += [ent(name) for name in ("Honda", "Facebook Inc", "PT Pertamina")]
    mentions += [ent("Kementerian Badan Usaha Milik Negara"), ent("Joko Widodo", "PER")]
    mentions.append(ent("Kompas Gramedia"))
    canonical = [m.canonical for m in canonicalise(mentions, {"body": body})]
    assert canonical == [
        "KPK",
        "LIB",  # the company form PT is not in the abbreviation
        "KPK",
        "KPK",
        "Honda",  # a model name, not Honda's abbreviation: its letters are not Honda's
        "Facebook Inc",  # a stock code
        "PT Pertamina",  # a company form, not an abbreviation
        "Kementerian Badan Usaha Milik Negara",  # BUMN names the enterprises, not the ministry
        "Joko Widodo",  # organisations only
        "Kompas Gramedia",  # a short name, not an abbreviation (one capital)
    ]
    # Without the article's text there is nothing to read the abbreviation from.
    assert [m.canonical for m in canonicalise(mentions[:1])] == ["Komisi Pemberantasan Korupsi"]


def test_an_abbreviation_the_article_defines_for_an_organisation_is_one_wherever_it_stands() -> None:
    body = "Mahkamah Agung (MA) menolak. Hakim MA Sunarto berkata MA tidak berubah; di ITB, ITB dan MUI."

    def ent(text: str, label: str, after: int = 0) -> Entity:
        start = body.index(text, after)
        end = start + len(text)
        return Entity(text=text, label=label, field="body", start=start, end=end, canonical=text)  # type: ignore[arg-type]

    later = body.index("berkata")
    mentions = [ent("Mahkamah Agung", "ORG"), ent("MA Sunarto", "PER"), ent("MA", "PER", after=later)]
    mentions += [ent("ITB", "LOC"), ent("MUI", "PER")]
    tagged = [(m.label, m.canonical) for m in canonicalise(mentions, {"body": body})]
    assert tagged == [
        ("ORG", "MA"),
        ("PER", "MA Sunarto"),  # a person whose name the model read with the court's: left as is
        ("ORG", "MA"),  # the model's person ``MA`` is the court the article spelled out
        ("LOC", "ITB"),  # no organisation spelled out as ITB here
        ("PER", "MUI"),
    ]


def test_a_persons_nickname_takes_the_full_name_from_the_article_or_the_nickname_list() -> None:
    body = (
        "Presiden Joko Widodo (Jokowi) dan Andi Agustinus (AA) bertemu Marc Marquez (Repsol). "
        "Kata Jokowi, AA dan Repsol setuju. Ahok dan JK hadir; KPK (JK) tidak."
    )

    def ent(text: str, label: str = "PER", after: int = 0) -> Entity:
        start = body.index(text, after)
        return Entity(
            text=text, label=label, field="body", start=start, end=start + len(text), canonical=text
        )  # type: ignore[arg-type]

    mentions = [ent(name) for name in ("Joko Widodo", "Andi Agustinus", "Marc Marquez")]
    mentions += [ent(name, after=90) for name in ("Jokowi", "AA", "Repsol", "Ahok", "JK")]
    mentions.append(ent("KPK", "ORG"))
    canonical = [m.canonical for m in canonicalise(mentions, {"body": body})]
    assert canonical == [
        "Joko Widodo",
        "Andi Agustinus",
        "Marc Marquez",
        "Joko Widodo",
        "Andi Agustinus",  # the article's own bracket, spelled from the name
        "Repsol",  # a team in brackets: not spelled from the name, not on the list
        "Basuki Tjahaja Purnama",  # the nickname list, though the article never names him in full
        "Jusuf Kalla",
        "KPK",  # persons only
    ]
    # Without the article's text only the list applies.
    assert [m.canonical for m in canonicalise(mentions[3:5])] == ["Joko Widodo", "AA"]
    # The list is IndoSum's nicknames for these persons, spelled from the name or often paired.
    assert {"Jokowi": "Joko Widodo", "SBY": "Susilo Bambang Yudhoyono"}.items() <= known_nicknames().items()


def test_an_organisations_web_address_or_party_prefix_takes_the_plain_name_the_article_uses() -> None:
    def ent(text: str, label: str = "ORG") -> Entity:
        return Entity(text=text, label=label, field="body", start=0, end=len(text), canonical=text)  # type: ignore[arg-type]

    mentions = [ent("CNN Indonesia"), ent("CNNIndonesia.com"), ent("CNNIndonesia.com", "LOC")]
    mentions += [ent("Partai Golkar"), ent("Golkar"), ent("Partai Republik"), ent("Suara.com")]
    mentions += [ent("Detik"), ent("DETIK"), ent("Detik.com"), ent("partai Nasdem"), ent("Nasdem")]
    out = canonicalise(mentions)
    assert [(e.label, e.canonical) for e in out] == [
        ("ORG", "CNN Indonesia"),
        ("ORG", "CNN Indonesia"),
        ("ORG", "CNN Indonesia"),  # an address read as a place is the organisation
        ("ORG", "Golkar"),
        ("ORG", "Golkar"),
        ("ORG", "Partai Republik"),  # the article never says "Republik" alone
        ("ORG", "Suara.com"),  # no plain name in the article
        ("ORG", "Detik"),
        ("ORG", "DETIK"),
        ("ORG", "Detik.com"),  # two plain spellings: left as it is
        ("ORG", "Nasdem"),
        ("ORG", "Nasdem"),
    ]


def test_an_organisations_or_places_own_canonical_name_drops_ri_and_capitalises_its_head() -> None:
    import spacy
    from spacy.tokens import Doc, Span

    from pipeline.enrich import doc_mentions

    words = ["DPR", "RI", ",", "KPU", "-", "RI", ",", "KBRI", ",", "Kedubes", "RI", "dan", "MA", "RI"]
    words += ["di", "gedung", "KPK", "bersama", "timnas", "U-19", "dan", "gedung", "DPR", "RI"]
    doc = Doc(spacy.blank("id").vocab, words=words)
    ents = [(0, 2, "ORG"), (3, 6, "ORG"), (7, 8, "ORG"), (9, 11, "ORG"), (12, 14, "PER")]
    ents += [(15, 17, "LOC"), (18, 20, "ORG"), (21, 24, "LOC")]
    doc.ents = [Span(doc, start, end, label=label) for start, end, label in ents]
    found = [(m.text, m.canonical) for m in doc_mentions(doc, "body", "id")]
    # The head-word convention is Indonesian news's; in other languages the name stays as written.
    assert [m.canonical for m in doc_mentions(doc, "body", "de")][-3:] == [
        "gedung KPK",
        "timnas U-19",
        "gedung DPR RI",
    ]
    assert found == [
        ("DPR RI", "DPR"),
        ("KPU - RI", "KPU"),
        ("KBRI", "KBRI"),  # glued: a name of its own (the embassy)
        ("Kedubes RI", "Kedubes RI"),  # a word, not an abbreviation: "the Indonesian embassy"
        ("MA RI", "MA RI"),  # organisations only
        ("gedung KPK", "Gedung KPK"),  # one facet with the capitalised spelling
        ("timnas U-19", "Timnas U-19"),
        ("gedung DPR RI", "Gedung DPR RI"),  # a place: the suffix stays
    ]


def test_a_persons_own_canonical_name_has_no_honorific_so_it_joins_the_full_name() -> None:
    import spacy
    from spacy.tokens import Doc, Span

    from pipeline.enrich import doc_mentions

    words = [
        "Col",
        "Alexander",
        "Vindman",
        "and",
        "Mr.",
        "Trump",
        "met",
        "Gen",
        "Z",
        "and",
        "Donald",
        "Trump",
    ]
    doc = Doc(spacy.blank("en").vocab, words=words)
    doc.ents = [Span(doc, s, e, label="PER") for s, e in ((0, 3), (4, 6), (7, 9), (10, 12))]
    mentions = list(doc_mentions(doc, "body", "en"))
    assert [m.canonical for m in mentions] == ["Alexander Vindman", "Trump", "Gen Z", "Donald Trump"]
    assert [m.canonical for m in canonicalise(mentions)][1] == "Donald Trump"


def test_a_short_given_name_takes_the_one_full_name_it_begins() -> None:
    def ent(text: str, label: str = "PER") -> Entity:
        return Entity(text=text, label=label, field="body", start=0, end=len(text), canonical=text)  # type: ignore[arg-type]

    out = canonicalise([ent("Sandiaga Uno"), ent("Sandi"), ent("Sandi", "ORG"), ent("Mega")])
    assert [e.canonical for e in out] == ["Sandiaga Uno", "Sandiaga Uno", "Sandi", "Mega"]
    # Not a given name in its own right, nor towards two names, nor towards the model's
    # punctuated span.
    out = canonicalise([ent("Alexis Sanchez"), ent("Alex"), ent("Megawati Soekarnoputri")])
    assert [e.canonical for e in out[1:]] == ["Alex", "Megawati Soekarnoputri"]
    out = canonicalise([ent("Marcus Gideon"), ent("Marcelo Rios"), ent("Mar")])
    assert out[2].canonical == "Mar"  # begins both
    out = canonicalise([ent("Euclid. Premis"), ent("Euclid")])
    assert out[1].canonical == "Euclid"


def test_a_mention_ends_at_its_last_word_not_at_a_line_break_the_model_took_in() -> None:
    import spacy
    from spacy.tokens import Doc, Span

    from pipeline.enrich import doc_mentions

    doc = Doc(spacy.blank("id").vocab, words=["Partai", "Hijau", "\n", "dan", "“Golkar”"])
    doc.ents = [Span(doc, 0, 3, label="ORG"), Span(doc, 4, 5, label="ORG")]
    found = [(m.text, m.start, m.end, m.canonical) for m in doc_mentions(doc, "body", "id")]
    assert found == [("Partai Hijau", 0, 12, "Partai Hijau"), ("Golkar", 20, 26, "Golkar")]
