"""Gazetteers: file format, longest-match BIO features, updates, built-in lists, and their storage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfill.config import config_from_dict
from slotfill.data.example import Example
from slotfill.errors import ConfigError, DataError, ModelError
from slotfill.features import gazetteer
from slotfill.features.gazetteer import (
    Gazetteer,
    GazetteerSet,
    GazetteerUpdate,
    fold,
    form_words,
    merge_entries,
    read_gazetteer_file,
)
from slotfill.features.gazetteer_sources import (
    airport_forms,
    build_gazetteers,
    builtin_entries,
    load_gazetteers,
    save_gazetteers,
)
from slotfill.text.tokenise import is_punctuation, tokenise


def matches(gazetteers: GazetteerSet, text: str) -> list[list[str]]:
    """Per token, the list memberships as readable tags: ["B-city", "I-airport"]."""
    words = [t.norm for t in tokenise(text)]
    out = []
    for bits in gazetteers.features(words):
        tags = []
        for index, name in enumerate(gazetteers.names):
            if bits >> (2 * index) & 1:
                tags.append(f"B-{name}")
            if bits >> (2 * index + 1) & 1:
                tags.append(f"I-{name}")
        out.append(tags)
    return out


CITIES = Gazetteer(
    "city", (("New York City", "NYC"), ("New York",), ("York",), ("St. Louis", "Saint Louis"), ("Reykjavík",))
)
AIRPORTS = Gazetteer("airport", (("New York JFK",), ("O'Hare",)))


def test_longest_match_per_list_with_bio_features() -> None:
    gazetteers = GazetteerSet([CITIES, AIRPORTS])
    assert matches(gazetteers, "from new york city to york") == [
        [], ["B-city"], ["I-city"], ["I-city"], [], ["B-city"],
    ]  # fmt: skip
    # each list matches on its own: "new york jfk" is an airport while "new york" is a city
    assert matches(gazetteers, "new york jfk") == [["B-city", "B-airport"], ["I-city", "I-airport"], ["I-airport"]]


def test_matching_folds_case_accents_periods_and_apostrophes() -> None:
    gazetteers = GazetteerSet([CITIES, AIRPORTS])
    for text in ("St. Louis", "st louis", "SAINT LOUIS", "Reykjavik", "REYKJAVÍK", "ohare", "O’Hare", "nyc"):
        features = matches(gazetteers, text)
        assert features[0] and all(features[i] for i in range(len(features))), text
    assert matches(gazetteers, "new yorker") == [[], []]  # whole words only; "new" alone is no entry
    assert matches(gazetteers, "louis") == [[]]


def test_adjacent_matches_of_one_list_each_begin() -> None:
    gazetteers = GazetteerSet([Gazetteer("city", (("york",), ("boston",)))])
    assert matches(gazetteers, "york boston york") == [["B-city"], ["B-city"], ["B-city"]]


def test_gazetteer_file_format(tmp_path: Path) -> None:
    path = tmp_path / "cities.txt"
    path.write_bytes("\ufeff# my cities\n\nTaipei | Taibei\n  Qaanaaq  \r\n# done\n".encode())
    assert read_gazetteer_file(path) == [("Taipei", "Taibei"), ("Qaanaaq",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no entries"),
        (b"# only a comment\n\n", "no entries"),
        (b"Taipei\n\xff\xfe\n", ":2: not UTF-8"),
        (b"Taipei\n?!\n", ":2: '?!' has no word to match"),
        (b"Taipei | \n", ":1: '' has no word to match"),
    ],
)
def test_bad_gazetteer_files_name_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(message)) as error:
        read_gazetteer_file(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_missing_gazetteer_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such gazetteer file"):
        read_gazetteer_file(tmp_path / "nope.txt")


def test_updates_add_or_replace_and_keep_the_feature_order(tmp_path: Path) -> None:
    gazetteers = GazetteerSet([CITIES, AIRPORTS])
    extra = tmp_path / "extra.txt"
    extra.write_text("Qaanaaq\nNew York\n", encoding="utf-8")
    added = gazetteers.updated([GazetteerUpdate.from_spec(f"city={extra}")])
    assert added.names == ("city", "airport")
    assert added["city"].entries[-1] == ("Qaanaaq",) and len(added["city"].entries) == len(CITIES.entries) + 1
    assert matches(added, "qaanaaq") == [["B-city"]] and matches(gazetteers, "qaanaaq") == [[]]
    replaced = gazetteers.updated([GazetteerUpdate.from_spec(f"city={extra}:replace")])
    assert replaced["city"].entries == (("Qaanaaq",), ("New York",)) and matches(replaced, "york") == [[]]
    with pytest.raises(DataError, match=r"--gazetteer town: the model has no such list \(it has: city, airport\)"):
        gazetteers.updated([GazetteerUpdate.from_spec(f"town={extra}")])
    for spec in ("city", "=x", "city="):
        with pytest.raises(DataError, match="expected NAME=FILE"):
            GazetteerUpdate.from_spec(spec)


def test_builtin_lists_come_from_airportsdata() -> None:
    cities = {form_words(entry[0]) for entry in builtin_entries("city")}
    assert {("taipei",), ("reykjavik",), ("boston",), ("salt", "lake", "city")} <= cities and len(cities) > 5000
    codes = {entry[0] for entry in builtin_entries("airport_code")}
    assert {"TPE", "KEF", "LAX", "BWI"} <= codes
    states = {entry[0] for entry in builtin_entries("state")}
    assert {"Texas", "Quebec", "District of Columbia"} <= states and "Gulf" not in states


def test_airport_aliases_are_the_names_people_use_never_the_bare_city() -> None:
    assert airport_forms("Chicago O'Hare International Airport", "Chicago") == (
        "Chicago O'Hare International Airport", "Chicago O'Hare International", "Chicago O'Hare", "O'Hare", "Chicago Airport",
    )  # fmt: skip
    assert "Denver" not in airport_forms("Denver International Airport", "Denver")


def test_lists_from_config_merge_builtin_file_and_training_values(tmp_path: Path) -> None:
    path = tmp_path / "airlines.txt"
    path.write_text("Tower Air\nEVA Air | EVA\n", encoding="utf-8")
    config = config_from_dict(
        {"gazetteers": {"airline": {"file": str(path), "slots": ["airline_name"]}, "code": {"builtin": "airport_code"}}}
    )
    train = [
        Example(
            ("on", "tower", "air", "to", "boston"), ("O", "B-airline_name", "I-airline_name", "O", "B-toloc.city_name")
        ),
        Example(("delta", "flights"), ("B-airline_name", "O")),
    ]
    gazetteers = build_gazetteers(config.gazetteers, train)
    assert gazetteers.names == ("airline", "code")
    assert gazetteers["airline"].entries == (
        ("Tower Air",),
        ("EVA Air", "EVA"),
        ("delta",),
    )  # "tower air" is already listed
    assert gazetteers["airline"].source == f"file {path} + training values of airline_name"
    assert gazetteers["code"].source.startswith("airportsdata ")


def test_config_rejects_bad_gazetteer_sections() -> None:
    for raw, message in [
        ({"city": {}}, "give at least one of builtin, file, slots"),
        ({"city": {"builtin": "towns"}}, "gazetteers.city.builtin"),
        ({"a b": {"slots": ["x"]}}, "a gazetteer name is letters"),
        ({"a": {"slots": ["x"]}, "b": {"slots": ["x"]}}, "slot type 'x' is in both 'a' and 'b'"),
        ({f"g{i}": {"slots": [f"s{i}"]} for i in range(32)}, "at most 31 gazetteers"),
    ]:
        with pytest.raises(ConfigError, match=message):
            config_from_dict({"gazetteers": raw})


def test_saved_lists_load_back_and_damage_is_reported(tmp_path: Path) -> None:
    gazetteers = GazetteerSet([Gazetteer("city", CITIES.entries, "a test"), AIRPORTS])
    staged = tmp_path / "model"
    staged.mkdir()
    save_gazetteers(staged, gazetteers)
    loaded = load_gazetteers(staged, ["city", "airport"])
    assert [(g.name, g.entries, g.source) for g in loaded.gazetteers] == [
        (g.name, g.entries, g.source) for g in gazetteers.gazetteers
    ]
    with pytest.raises(ModelError, match="do not match the config's gazetteers"):
        load_gazetteers(staged, ["airport", "city"])
    city = staged / "gazetteers" / "city.txt"
    city.write_text(city.read_text() + "Springfield\n")
    with pytest.raises(ModelError, match="city.txt: damaged gazetteer file"):
        load_gazetteers(staged, ["city", "airport"])
    city.unlink()
    with pytest.raises(ModelError, match="city.txt: gazetteer file missing"):
        load_gazetteers(staged, ["city", "airport"])
    (staged / "gazetteers" / "index.json").unlink()
    with pytest.raises(ModelError, match="missing or damaged gazetteer index"):
        load_gazetteers(staged, ["city", "airport"])


def tokeniser_words(form: str) -> tuple[str, ...]:
    """What form_words means, by its definition: the tokeniser's tokens, punctuation left out, folded."""
    folded = (fold(token.text) for token in tokenise(form) if not is_punctuation(token.text))
    return tuple(word for word in folded if word)


def test_form_words_of_every_builtin_entry_are_the_tokenisers() -> None:
    forms = {form for kind in ("city", "airport", "airport_code", "state") for e in builtin_entries(kind) for form in e}
    assert len(forms) > 20_000
    assert {form: form_words(form) for form in forms} == {form: tokeniser_words(form) for form in forms}


LATIN = "".join(chr(c) for c in [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)] if chr(c).isalpha())
FORMS = (
    st.text(alphabet="aZ09 .'-é\t", max_size=14)
    | st.text(alphabet="stmaZ09 .,:/%'-_()$+?", max_size=16)
    | st.text(alphabet=LATIN + " -.'ª×\u0301กขа", max_size=12)  # Latin letters, a mark, Thai, a Cyrillic а
)


@settings(max_examples=600)
@given(FORMS)
def test_the_fast_paths_of_form_words_are_the_tokeniser(form: str) -> None:
    assert form_words(form) == tokeniser_words(form)
    assert gazetteer.form_key(form) == " ".join(tokeniser_words(form))
    assert gazetteer.has_words(form) == bool(tokeniser_words(form))
    assert gazetteer._is_plain(form) == bool(re.fullmatch(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*", form))


def test_latin_letters_fold_one_by_one_as_words_fold() -> None:
    table = gazetteer._latin_folds()
    assert {chr(code) for code in table} == set(LATIN) | set("abcdefghijklmnopqrstuvwxyz")
    assert all(fold(letter) == folded for letter, folded in ((chr(c), f) for c, f in table.items()))
    words = ["Zürich", "Ǆemal", "İstanbul", "Đà", "Nẵng", "Ørsted", "Straße", "ǅ", "Ǻlborg"]
    assert [word.translate(table) for word in words] == [fold(word) for word in words]


@settings(max_examples=300)
@given(st.lists(st.lists(st.sampled_from(["New York", "new york", "NYC", "St. Louis", "st louis", "Zürich", "zurich", "Baie-Comeau", "Rome"]), min_size=1, max_size=3), max_size=6))  # fmt: skip
def test_an_updated_set_is_the_set_built_from_the_merged_lists(added: list[list[str]]) -> None:
    """`updated` grows the old set's matcher instead of building one: the same features as a set
    built whole from the merged entries, and each form once per list."""
    base = [Gazetteer("city", (("Boston",), ("New York", "NYC"))), Gazetteer("airport", (("JFK",),))]
    entries = tuple(tuple(entry) for entry in added)
    updated = GazetteerSet(base).updated([GazetteerUpdate("city", entries)])
    built = GazetteerSet([Gazetteer("city", merge_entries(base[0].entries, entries)), base[1]])
    assert updated["city"].entries == built["city"].entries
    keys = [gazetteer.form_key(form) for entry in updated["city"].entries for form in entry]
    assert len(keys) == len(set(keys))
    for text in ["fly from new york to zurich via st. louis", "rome baie-comeau jfk boston nyc", "st louis"]:
        assert matches(updated, text) == matches(built, text)


def test_a_list_file_that_is_no_list_is_one_line_before_it_fills_memory(tmp_path: Path) -> None:
    import pytest

    from slotfill.errors import DataError
    from slotfill.features.gazetteer import GazetteerUpdate

    with pytest.raises(DataError, match=r"/dev/zero:1: a line of more than 4096 bytes is not a list entry"):
        GazetteerUpdate.from_spec("city=/dev/zero")
    with pytest.raises(DataError, match="is a directory"):
        GazetteerUpdate.from_spec(f"city={tmp_path}")


def test_replacing_a_list_after_adding_to_it_is_refused(tmp_path: Path) -> None:
    import pytest

    from slotfill.errors import DataError
    from slotfill.features.gazetteer import Gazetteer, GazetteerSet, GazetteerUpdate

    (tmp_path / "a.txt").write_text("Qaanaaq\n")
    (tmp_path / "b.txt").write_text("Vrelk\n")
    lists = GazetteerSet([Gazetteer("city", (("Boston",),), "test")])
    add, replace = (
        GazetteerUpdate.from_spec(f"city={tmp_path / 'a.txt'}"),
        GazetteerUpdate.from_spec(f"city={tmp_path / 'b.txt'}:replace"),
    )
    with pytest.raises(DataError, match="would discard the entries an earlier --gazetteer city=... added"):
        lists.updated([add, replace])
    assert lists.updated([replace, add])["city"].entries == (("Vrelk",), ("Qaanaaq",))  # replace, then add
