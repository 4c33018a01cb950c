"""Training-time noise: slot-value substitution and courtesies, seeded per epoch."""

from __future__ import annotations

import pytest

from slotfill.data.example import Example
from slotfill.features.gazetteer import Gazetteer, GazetteerSet
from slotfill.text import bio
from slotfill.training.augment import COURTESY_END, COURTESY_START, Augmentation

GAZETTEERS = GazetteerSet([Gazetteer("city", (("Winston-Salem",), ("Qaanaaq",), ("São Paulo", "Sampa")))])
EXAMPLE = Example(
    ("fly", "from", "boston", "to", "new", "york", "on", "monday"),
    ("O", "O", "B-fromloc.city_name", "O", "B-toloc.city_name", "I-toloc.city_name", "O", "B-depart_date.day_name"),
    "atis_flight",
)
CITY_FORMS = {
    ("Winston", "Salem"),
    ("Qaanaaq",),
    ("São", "Paulo"),
    ("Sampa",),
}  # punctuation left out, as the model sees it


def slot_values(example: Example) -> dict[str, tuple[str, ...]]:
    return {span.label: example.tokens[span.start : span.end] for span in bio.spans(example.tags)}


def test_substitution_replaces_every_listed_slot_and_realigns_tags() -> None:
    augmentation = Augmentation(5, substitution=1.0, gazetteers=GAZETTEERS, list_of_slot={"city_name": "city"})
    for epoch in range(1, 20):
        (changed,) = augmentation.examples_for_epoch([EXAMPLE], epoch)
        values = slot_values(changed)
        assert values["fromloc.city_name"] in CITY_FORMS and values["toloc.city_name"] in CITY_FORMS
        assert values["depart_date.day_name"] == ("monday",)  # a type without a list is kept
        assert (
            bio.is_valid(changed.tags) and len(changed.tokens) == len(changed.tags) and changed.intent == "atis_flight"
        )
        assert changed.tokens[:2] == ("fly", "from") and changed.tokens[-2:] == ("on", "monday")


def test_substitution_is_seeded_per_epoch_and_follows_its_probability() -> None:
    examples = [EXAMPLE] * 400
    augmentation = Augmentation(5, substitution=0.3, gazetteers=GAZETTEERS, list_of_slot={"city_name": "city"})
    first = augmentation.examples_for_epoch(examples, 1)
    assert first == Augmentation(
        5, substitution=0.3, gazetteers=GAZETTEERS, list_of_slot={"city_name": "city"}
    ).examples_for_epoch(examples, 1)
    assert first != augmentation.examples_for_epoch(examples, 2)
    kept = sum(slot_values(e)["fromloc.city_name"] == ("boston",) for e in first)
    assert 0.6 < kept / len(examples) < 0.8
    assert Augmentation(5, gazetteers=GAZETTEERS, list_of_slot={"city_name": "city"}).examples_for_epoch(
        [EXAMPLE], 1
    ) == [EXAMPLE]


def test_courtesy_words_are_outside_every_slot() -> None:
    augmentation = Augmentation(3, courtesy=1.0)
    starts = ends = 0
    for epoch in range(1, 40):
        (noisy,) = augmentation.examples_for_epoch([EXAMPLE], epoch)
        assert slot_values(noisy) == slot_values(EXAMPLE) and bio.is_valid(noisy.tags)
        if noisy.tokens[: len(EXAMPLE.tokens)] == EXAMPLE.tokens:
            added = " ".join(noisy.tokens[len(EXAMPLE.tokens) :])
            assert added in COURTESY_END
            ends += 1
        else:
            added = " ".join(noisy.tokens[: len(noisy.tokens) - len(EXAMPLE.tokens)])
            assert added in COURTESY_START and noisy.tokens[-len(EXAMPLE.tokens) :] == EXAMPLE.tokens
            starts += 1
    assert starts and ends


def test_courtesies_are_added_only_to_data_that_says_them(caplog: pytest.LogCaptureFixture) -> None:
    """The courtesies are English: a German or Japanese training set gets none (and a warning)."""
    from slotfill.training.augment import speaks_courtesies
    from slotfill.training.builders import augmentation as _augmentation

    from ..conftest import tiny_config

    english = [Example(("show", "flights", "please"), ("O", "O", "O"), None)]
    german = [Example(("zeige", "alle", "erinnerungen"), ("O", "B-reference", "O"), None)]
    japanese = [Example(("今", "日", "の", "天", "気"), ("B-datetime", "I-datetime", "O", "O", "O"), None)]
    assert speaks_courtesies(english) and not speaks_courtesies(german) and not speaks_courtesies(japanese)
    config = tiny_config(training={"courtesy": 0.5})
    assert _augmentation(config, GazetteerSet(), english) is not None
    with caplog.at_level("WARNING"):
        assert _augmentation(config, GazetteerSet(), german) is None
    assert "none of the (English) courtesy words" in caplog.text
