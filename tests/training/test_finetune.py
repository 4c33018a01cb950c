"""`train --init-from`: the model's ids and weights carried over, the vocabulary grown with what the
new data adds, the new rows initialised as a fresh model's, the architecture checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from slotfill.errors import ConfigError, DataError
from slotfill.features.vocab import Index, Vocab
from slotfill.predict import Predictor
from slotfill.store.model_dir import load_model
from slotfill.text.tokenise import TOKENISATION
from slotfill.training.finetune import first_difference, grown_vocab, load_grown
from slotfill.training.loop import train

from ..conftest import DEMO, tiny_config


def vocab(words: list[str], tags: list[str], intents: list[str]) -> Vocab:
    return Vocab(
        Index(["<pad>", "<unk>", *words]),
        Index(["<pad>", "<unk>", "a"]),
        Index(tags),
        Index(intents),
        Index(["<pad>", "<unk>"]),
    )


def test_a_grown_vocabulary_keeps_every_old_id() -> None:
    old = vocab(["fly", "to"], ["O", "B-city", "I-city"], ["flight"])
    new = vocab(["to", "hotel", "fly"], ["O", "B-hotel", "B-city"], ["booking", "flight"])
    grown = grown_vocab(old, new)
    assert grown.words.items == ["<pad>", "<unk>", "fly", "to", "hotel"]
    assert grown.tags.items == ["O", "B-city", "I-city", "B-hotel"]
    assert grown.intents.items == ["flight", "booking"] and grown.tokenisation == TOKENISATION  # the current rules


def test_old_weights_go_to_their_block_and_new_rows_stay_as_built() -> None:
    old, new = torch.nn.Linear(4, 3), torch.nn.Linear(4, 5)
    fresh = new.weight.detach().clone()
    load_grown(new, old.state_dict())
    assert torch.equal(new.weight[:3], old.weight) and torch.equal(new.bias[:3], old.bias)
    assert torch.equal(new.weight[3:], fresh[3:])
    with pytest.raises(ConfigError, match=r"--init-from: weight is \[3, 4\] in the model and \[2, 4\] here"):
        load_grown(torch.nn.Linear(4, 2), old.state_dict())


def test_fine_tuning_starts_from_the_model_and_learns_new_labels(trained_run: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    (data / "extra").mkdir()
    (data / "extra" / "seq.in").write_text("book the grand hotel in boston\nbook the plaza hotel\n" * 10)
    (data / "extra" / "seq.out").write_text("O O B-hotel I-hotel O B-city_name\nO O B-hotel I-hotel\n" * 10)
    (data / "extra" / "label").write_text("book_hotel\nbook_hotel\n" * 10)
    config = tiny_config(data={"dir": str(data), "train": ["train", "extra"]}, training={"epochs": 1})
    before = load_model(trained_run, torch.device("cpu"))
    train(config, tmp_path / "run", init_from=trained_run)
    after = load_model(tmp_path / "run", torch.device("cpu"))
    old_items = before.vocab.words.items
    assert after.vocab.words.items[: len(old_items)] == old_items and "grand" in after.vocab.words.items
    assert after.vocab.tags.items[: len(before.vocab.tags.items)] == before.vocab.tags.items
    assert "B-hotel" in after.vocab.tags.items and "book_hotel" in after.vocab.intents.items
    assert Predictor.load(tmp_path / "run", "cpu").parse("book the grand hotel")["tokens"] == [
        "book",
        "the",
        "grand",
        "hotel",
    ]
    with pytest.raises(
        ConfigError, match=r"^--init-from .*: model\.encoder\.hidden_size is 48 in the model and 64 in the config$"
    ):
        train(tiny_config(model={"encoder": {"hidden_size": 64}}), tmp_path / "other", init_from=trained_run)
    assert first_difference(before.config, tiny_config(model={"dropout": 0.5})) is None  # regularisation may change
    with_vectors = tiny_config(model={"embedding": {"vectors": {"source": "glove-6b-50d"}}})
    assert first_difference(before.config, with_vectors) == (
        "model.embedding.vectors: the config has word vectors and the model none: the two read different inputs"
    )  # it said: encoder.fused.weight_ih_l0 is [384, 496] in the model and [384, 112] here


def test_a_fine_tuning_run_resumes_exactly_and_overwrites_like_any_run(trained_run: Path, tmp_path: Path) -> None:
    """What a run directory promises holds with --init-from: an interrupted fine-tuning run resumes
    (by `train` again or by `resume_training`) to the weights and metrics of an uninterrupted one,
    a finished one is refused without --overwrite and replaced with it."""
    import threading

    from slotfill.errors import OutputError
    from slotfill.training.loop import TrainingInterrupted, resume_training

    from ..themes.test_interrupt import StopAfter, assert_same_run

    config = tiny_config(data={"train": "dev", "dev": "test", "test": None}, training={"epochs": 3})
    train(config, tmp_path / "whole", init_from=trained_run)
    stop = threading.Event()
    for name in ("by-train", "by-resume"):
        with pytest.raises(TrainingInterrupted):
            train(config, tmp_path / name, StopAfter(13, stop), stop=stop, init_from=trained_run)
        stop.clear()
    train(config, tmp_path / "by-train", init_from=trained_run)  # the same config again: resumes
    resume_training(tmp_path / "by-resume")
    assert_same_run(tmp_path / "whole", tmp_path / "by-train")
    assert_same_run(tmp_path / "whole", tmp_path / "by-resume")
    with pytest.raises(OutputError, match="--overwrite"):
        train(config, tmp_path / "whole", init_from=trained_run)
    train(tiny_config(data={"train": "dev", "dev": "test", "test": None}, training={"epochs": 1}),
          tmp_path / "whole", overwrite=True, init_from=trained_run)  # fmt: skip
    assert len((tmp_path / "whole" / "train_log.jsonl").read_text().splitlines()) == 1


def test_several_training_splits_may_be_in_several_formats(tmp_path: Path) -> None:
    from slotfill.data.splits import read_splits

    corrected = tmp_path / "corrected.jsonl"
    corrected.write_text('{"text": "fly to Qaanaaq", "intent": "atis_flight", "slots": [{"start": 7, "end": 14, "slot": "toloc.city_name"}]}\n')  # fmt: skip
    both = {"train": ["train", str(corrected)], "test": None}
    splits = read_splits(tiny_config(data={**both, "format": "auto"}).data)
    assert splits.train[-1].tokens == ("fly", "to", "Qaanaaq") and splits.train[-1].tags[-1] == "B-toloc.city_name"
    assert len(splits.train) == len(read_splits(tiny_config(data={"test": None}).data).train) + 1
    with pytest.raises(DataError, match=r"^data\.train: .*corrected\.jsonl is in the spans format and data\.format says atis: give data\.format: auto"):  # fmt: skip
        read_splits(tiny_config(data=both).data)


def test_a_fixed_format_reads_files_whatever_their_names(tmp_path: Path) -> None:
    """The hint is for an ATIS directory against a file; a span file named .txt under `format:
    spans` is read as spans, not refused for a name that reads as CoNLL."""
    from slotfill.data.splits import read_splits

    for name in ("old.txt", "new.txt"):
        (tmp_path / name).write_text('{"text": "fly to rome", "intent": "atis_flight", "slots": [{"start": 7, "end": 11, "slot": "toloc.city_name"}]}\n')  # fmt: skip
    config = tiny_config(data={"dir": str(tmp_path), "format": "spans", "train": ["old.txt", "new.txt"], "dev": None, "test": None})  # fmt: skip
    assert [e.tags for e in read_splits(config.data).train] == [("O", "O", "B-toloc.city_name")] * 2
