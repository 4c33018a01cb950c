from pathlib import Path

import pytest

from slotfill.data.example import Example
from slotfill.errors import ModelError
from slotfill.features.vocab import PAD_ID, UNK_ID, Vocab

EXAMPLES = [
    Example(("Fly", "to", "boston"), ("O", "O", "B-to"), "atis_flight"),
    Example(("to", "new", "york"), ("O", "B-to", "I-to"), "atis_airfare"),
]


def test_build_and_lookup() -> None:
    vocab = Vocab.build(EXAMPLES)
    assert vocab.words.items[:3] == ["<pad>", "<unk>", "to"]  # most frequent first
    assert vocab.words.get("fly") != UNK_ID  # words are normalised (lowercased)
    assert vocab.words.get("taipei") == UNK_ID and vocab.words["<pad>"] == PAD_ID
    assert vocab.tags.items == ["O", "B-to", "I-to"]
    assert vocab.intents.items == ["atis_airfare", "atis_flight"]


def test_min_freq_maps_rare_words_to_unk() -> None:
    vocab = Vocab.build(EXAMPLES, min_freq=2)
    assert vocab.words.items == ["<pad>", "<unk>", "to"]


def test_json_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.build(EXAMPLES)
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded.to_json() == vocab.to_json()


def test_damaged_vocab_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "vocab.json").write_text('{"words": []')
    with pytest.raises(ModelError, match="vocab.json: cannot read"):
        Vocab.load(tmp_path / "vocab.json")
