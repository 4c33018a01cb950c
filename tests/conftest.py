"""Shared fixtures: the project's own small data (data/demo), never ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from slotfill.config import Config, config_from_dict

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"

# no per-example deadline in any property test: how long one example takes depends on the machine
# and on what else it runs (a first example also pays for imports and compiled patterns), never on
# the code under test; Hypothesis's default of 200 ms makes such a test fail by luck
settings.register_profile("slotfill", deadline=None)
settings.load_profile("slotfill")


def tiny_config(tmp_dir: Path | None = None, **sections: dict) -> Config:
    """A small, fast model on the demo data."""
    raw: dict = {
        "seed": 7,
        "device": "cpu",
        "data": {"format": "atis", "dir": str(DEMO), "train": "train", "dev": "dev", "test": "test"},
        "model": {
            "embedding": {"dim": 32, "word_dropout": 0.1},
            "chars": {"enabled": True, "dim": 16, "filters": 24, "kernel_size": 3},
            "encoder": {"hidden_size": 48, "num_layers": 1, "bidirectional": True, "dropout": 0.0},
            "dropout": 0.2,
            "decoder": "crf",
        },
        "training": {"epochs": 3, "batch_size": 32, "lr": 0.003, "patience": 3},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_from_dict(raw)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short training run on data/demo, shared by the tests that need a model."""
    from slotfill.training.loop import train

    run_dir = tmp_path_factory.mktemp("run") / "demo"
    train(tiny_config(), run_dir)
    return run_dir


# the lists a demo model with gazetteers reads; cities come from the training data only, so the
# tests need neither airportsdata's full list nor its version to stay the same
GAZETTEERS = {"city": {"slots": ["city_name"]}, "airline": {"slots": ["airline_name"]}}


def gazetteer_config(**sections: dict) -> Config:
    """tiny_config with gazetteers, value substitution and courtesies."""
    training = {"epochs": 4, "substitution": 0.3, "courtesy": 0.1, **sections.pop("training", {})}
    return tiny_config(training=training, gazetteers=sections.pop("gazetteers", GAZETTEERS), **sections)


@pytest.fixture(scope="session")
def gazetteer_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run on data/demo with gazetteers, shared by the open-world tests."""
    from slotfill.training.loop import train

    run_dir = tmp_path_factory.mktemp("gazetteer-run") / "demo"
    # no out-of-scope noise: the seeded model whose cut-short made-up cities test_openworld.py names
    train(gazetteer_config(data={"test": None}, out_of_scope={"noise": 0}), run_dir)
    return run_dir


@pytest.fixture(scope="session")
def transformer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny transformer (tests/nn/transformer_folder.py), as a Hugging Face model folder."""
    from tests.nn.transformer_folder import write_transformer_folder

    return write_transformer_folder(tmp_path_factory.mktemp("encoder") / "tiny")


# a fine-tuned transformer's run: the 300 sentences of data/demo/dev, scored on test (short epochs); EMA
# on, so that what is evaluated and saved is the average's encoder, not the one being trained
FINE_TUNED_DATA = {"train": "dev", "dev": "test", "test": None}


def fine_tuned_config(folder: Path, **encoder: object) -> Config:
    return tiny_config(
        model={"transformer": {"source": str(folder), "mode": "fine_tuned", "lr": 1e-3, **encoder}},
        training={"epochs": 3, "ema_decay": 0.9},
        data=FINE_TUNED_DATA,
    )


@pytest.fixture(scope="session")
def frozen_transformer_run(transformer_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short demo run with the tiny encoder frozen beside the other features."""
    from slotfill.training.loop import train

    run = tmp_path_factory.mktemp("run") / "frozen_encoder"
    train(tiny_config(model={"transformer": {"source": str(transformer_folder)}}, training={"epochs": 2}), run)
    return run


@pytest.fixture(scope="session")
def fine_tuned_run(transformer_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run that fine-tunes the tiny encoder (fine_tuned_config)."""
    from slotfill.training.loop import train

    run = tmp_path_factory.mktemp("run") / "fine_tuned"
    train(fine_tuned_config(transformer_folder), run)
    return run


SLOW_FIXTURES = {
    "trained_run", "gazetteer_run", "server", "uninterrupted", "uninterrupted_cli", "frozen_transformer_run", "fine_tuned_run",
    "dialogue_run",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs a trained model or a running server is slow: `make test-fast` leaves it out."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def written_before_checksums(model: Path) -> None:
    """Make `model` a directory as slotfill wrote it before the weights recorded file checksums."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(model / "model.safetensors"), framework="pt") as weights:
        meta = weights.metadata()
    del meta["sha256"]
    save_file(load_file(str(model / "model.safetensors")), str(model / "model.safetensors"), metadata=meta)
