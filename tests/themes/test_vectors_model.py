"""A model with pretrained vectors end to end: trained from a vectors file, saved self-contained
(float16 rows, no source needed), words only the vectors know reaching the tagger, reloaded and
exported (float and int8) with the same parses, described by `info`, bad vectors refused in one line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import ConfigError
from slotfill.export.onnx import export_model
from slotfill.features.arrays import encode_sentences
from slotfill.features.vocab import UNK_ID
from slotfill.predict import Predictor
from slotfill.text.tokenise import normalise
from slotfill.training.loop import train

from ..conftest import DEMO, tiny_config
from ..export.test_export import TEXTS, assert_same_parses, without_scores

pytestmark = pytest.mark.slow
runner = CliRunner()
UNSEEN = ["reykjavik", "gdansk", "ulaanbaatar"]  # cities data/demo never names: only the vectors know them


def write_vectors(path: Path) -> Path:
    """GloVe text with every demo training word and three cities it never names, in random 8d vectors."""
    words = sorted({normalise(t) for e in read_split(DEMO / "train") for t in e.tokens}) + UNSEEN
    rng = np.random.default_rng(0)
    lines = [" ".join([w, *(f"{v:.4f}" for v in rng.normal(size=8))]) for w in words]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vectors_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("vectors")
    source = write_vectors(tmp / "glove.demo.8d.txt")
    config = tiny_config(
        model={"embedding": {"dim": 16, "word_dropout": 0.2, "vectors": {"source": str(source), "max_words": 5000}}},
        training={"epochs": 2},
    )
    train(config, tmp / "run")
    return tmp / "run", source


def test_the_model_keeps_its_vectors_as_float16_and_needs_no_source(
    vectors_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run, source = vectors_run
    expected = list(Predictor.load(run, "cpu").parse_many(TEXTS))
    moved = tmp_path / "model"
    shutil.copytree(run / "model", moved)
    source.rename(source.with_suffix(".gone"))  # the source is not read again
    try:
        with safe_open(str(moved / "model.safetensors"), framework="np") as weights:
            table = weights.get_tensor("word_input.vectors")
        vocab = json.loads((moved / "vocab.json").read_text(encoding="utf-8"))
        assert table.dtype == np.float16 and table.shape == (len(vocab["vectors"]["words"]), 8)
        assert vocab["vectors"]["dim"] == 8 and set(UNSEEN) <= set(vocab["vectors"]["words"])
        assert list(Predictor.load(moved, "cpu").parse_many(TEXTS)) == expected
    finally:
        source.with_suffix(".gone").rename(source)


def test_a_word_only_the_vectors_know_gets_its_row(vectors_run: tuple[Path, Path]) -> None:
    run, _ = vectors_run
    predictor = Predictor.load(run, "cpu")
    vocab = predictor.loaded.vocab
    corpus = encode_sentences([["fly", "to", "Reykjavík"], ["fly", "to", "zzyzx"]], vocab, predictor.gazetteers)
    arrays = corpus.arrays(corpus.sentences)
    rows = {vocab.vectors.items[r] if r > UNK_ID else None for r in arrays.vector_ids.tolist()}
    assert "reykjavik" in rows and "zzyzx" not in rows  # folded as the tokeniser folds; unknown to both: UNK
    assert vocab.words.get("reykjavik") == UNK_ID and vocab.vectors.get("zzyzx") == UNK_ID


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_the_export_holds_the_vectors_and_parses_the_same(
    vectors_run: tuple[Path, Path], tmp_path: Path, quantize: str
) -> None:
    run, _ = vectors_run
    export_model(run, tmp_path / "onnx", quantize)
    texts = TEXTS + ["fly from reykjavik to gdansk", *(" ".join(e.tokens) for e in read_split(DEMO / "test")[:40])]
    expected = list(Predictor.load(run, "cpu").parse_many(texts))
    got = list(Predictor.load(tmp_path / "onnx", "cpu").parse_many(texts))
    if quantize == "none":
        assert_same_parses(got, expected)
    else:  # int8 weights: close, not equal
        same = sum(without_scores(a)[0] == without_scores(b)[0] for a, b in zip(got, expected))
        assert same >= 0.9 * len(texts)
    import onnx

    graph = onnx.load(str(tmp_path / "onnx" / "model.onnx")).graph
    assert "vector_ids" in [i.name for i in graph.input]


def test_info_shows_the_vectors(vectors_run: tuple[Path, Path]) -> None:
    run, source = vectors_run
    described = json.loads(runner.invoke(app, ["info", str(run), "--json"]).stdout)
    rows = len(UNSEEN) + len({normalise(t) for e in read_split(DEMO / "train") for t in e.tokens})
    assert described["vectors"] == {"source": str(source), "join": "concat", "rows": rows, "dim": 8, "bytes": rows * 16}
    table = runner.invoke(app, ["info", str(run)], env={"COLUMNS": "200"}).stdout
    assert f"{rows:,} rows of 8" in table


def test_bad_vectors_stop_training_in_one_line(tmp_path: Path) -> None:
    source = write_vectors(tmp_path / "glove.txt")
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].rsplit(" ", 3)[0]  # three values short
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{format: atis, dir: {DEMO}}}\nmodel: {{embedding: {{vectors: {{source: glove.txt}}}}}}\n",
        encoding="utf-8",
    )  # a relative source is read from the config's directory
    result = runner.invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {source}:5: 5 values where the vectors have 8 (a truncated file?)"
    ]
    assert not (tmp_path / "run" / "model").exists()


def test_a_run_with_vectors_resumes_exactly_and_never_rereads_them(tmp_path: Path) -> None:
    """The checkpoint holds the vectors (float16, lossless): a resumed run ends as an uninterrupted
    one even when the source has gone in between."""
    import threading

    from slotfill.training.loop import TrainingInterrupted, resume_training

    from .test_interrupt import StopAfter, assert_same_run

    source = write_vectors(tmp_path / "glove.txt")
    config = tiny_config(
        data={"train": "dev", "dev": "test", "test": None},
        model={"embedding": {"dim": 16, "word_dropout": 0.2, "vectors": {"source": str(source)}}},
        training={"epochs": 3, "ema_decay": 0.99},
    )
    train(config, tmp_path / "whole")
    stop = threading.Event()
    with pytest.raises(TrainingInterrupted):
        train(config, tmp_path / "stopped", StopAfter(13, stop), stop=stop)
    source.write_text("fly 1 2 3 4\n", encoding="utf-8")  # other vectors, of another width, at the same path
    with pytest.raises(
        ConfigError,
        match=re.escape(f"{source} now holds 4-dimensional vectors; the run being resumed was trained with 8"),
    ):
        resume_training(tmp_path / "stopped")
    source.unlink()  # gone: the checkpoint's own vectors are used
    resume_training(tmp_path / "stopped")
    assert_same_run(tmp_path / "whole", tmp_path / "stopped")


@pytest.mark.parametrize("join", ["project", "init"])
def test_every_join_exports_with_the_same_parses(join: str, tmp_path: Path) -> None:
    import torch

    from slotfill.features.gazetteer import GazetteerSet
    from slotfill.features.vectors import read_vectors
    from slotfill.features.vocab import Vocab
    from slotfill.nn.tagger import build_tagger, load_vectors
    from slotfill.store.model_dir import save_model

    vectors = read_vectors(write_vectors(tmp_path / "glove.txt"))
    config = tiny_config(model={"embedding": {"dim": 8, "vectors": {"source": "glove.txt", "join": join}}})
    vocab = Vocab.build(read_split(DEMO / "dev")).with_vectors(vectors.words, vectors.dim)
    torch.manual_seed(3)
    tagger = build_tagger(config.model, vocab, 0)
    load_vectors(tagger, vocab, vectors.table)
    save_model(tmp_path / "model", config, vocab, GazetteerSet(), tagger, {})
    export_model(tmp_path / "model", tmp_path / "onnx")
    texts = TEXTS + ["fly from reykjavik to gdansk", *(" ".join(e.tokens) for e in read_split(DEMO / "test")[:40])]
    expected = list(Predictor.load(tmp_path / "model", "cpu").parse_many(texts, alternatives=2))
    assert_same_parses(list(Predictor.load(tmp_path / "onnx", "cpu").parse_many(texts, alternatives=2)), expected)
