"""A transformer as one more feature (model.transformer): word pieces that cover every
token, windows instead of truncation, features that do not depend on the batch, a model that
carries its encoder and loads offline, and every bad folder one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.errors import ConfigError, ModelError
from slotfill.nn.transformer import TRANSFORMER_FILES, load_transformer_features

from ..conftest import tiny_config
from .transformer_folder import write_transformer_folder

runner = CliRunner()
CPU = torch.device("cpu")


def test_every_token_has_pieces_and_none_is_merged(transformer_folder: Path) -> None:
    words = load_transformer_features(transformer_folder, "mean", CPU, half=True)
    tokens = ["flights", "to", "qaanaaq", "ꙮ", "😀", "2nd"]
    pieces = words.reader.pieces.token_ids(tokens)
    assert len(pieces) == len(tokens) and all(pieces)
    assert pieces[3] == [words.reader.pieces.unknown]  # a letter the word pieces cannot cover: the unknown piece
    (features,) = words([tokens])
    assert features.shape == (len(tokens), 16)


def test_a_tokenizer_whose_unknown_piece_is_not_in_its_vocabulary_is_refused(tmp_path: Path) -> None:
    """Four pieces and no unknown one: every other word had no piece, and the model trained to F1 0."""
    from tokenizers import Tokenizer, models

    from slotfill.features.wordpieces import WordPieces

    tokenizer = Tokenizer(models.WordLevel({"to": 0, "from": 1, "boston": 2, "denver": 3}))  # unk_token "<unk>"
    with pytest.raises(
        ModelError, match=r"tokenizer.json: the tokenizer's unknown piece '<unk>' is not in its vocabulary"
    ):
        WordPieces(tokenizer, 16, tmp_path / "tokenizer.json")
    covered = Tokenizer(models.WordLevel({"to": 0, "<unk>": 1}, unk_token="<unk>"))
    assert WordPieces(covered, 16, tmp_path / "tokenizer.json").token_ids(["to", "rome"]) == [[0], [1]]


def test_a_sentence_longer_than_the_encoder_is_read_in_windows(tmp_path: Path) -> None:
    folder = write_transformer_folder(tmp_path / "short", max_positions=16)
    words = load_transformer_features(folder, "first", CPU, half=True)
    tokens = ["show", "me", "flights", "from", "boston", "to", "denver"] * 5  # 35 tokens, 14 pieces a window
    windows = words.reader.pieces.windows(tokens)
    assert len(windows) > 2 and all(len(w.ids) <= 16 for w in windows)
    assert [w.first_token for w in windows] == sorted({w.first_token for w in windows})
    assert sum(len(w.token_pieces) for w in windows) == len(tokens)
    (features,) = words([tokens])
    assert features.shape == (35, 16) and np.isfinite(features).all()


def test_the_weights_are_read_as_transformers_reads_them(transformer_folder: Path) -> None:
    from transformers import AutoModel

    ours = load_transformer_features(transformer_folder, "mean", CPU, half=True).model
    theirs = AutoModel.from_pretrained(str(transformer_folder), local_files_only=True).eval()
    ids = torch.tensor([[2, 40, 41, 42, 3]])
    with torch.inference_mode():
        assert torch.equal(ours(input_ids=ids).last_hidden_state, theirs(input_ids=ids).last_hidden_state)


def test_a_sentence_has_the_same_features_alone_and_in_any_batch(transformer_folder: Path) -> None:
    words = load_transformer_features(transformer_folder, "mean", CPU, half=True)
    sentences = [["flights", "to", "boston"], ["show", "me", "the", "cheapest", "fare", "from", "denver"] * 3, ["hi"]]
    together = words(sentences)
    for sentence, features in zip(sentences, together):
        (alone,) = words([sentence])
        assert np.array_equal(alone, features)


@pytest.mark.slow  # trains a model
def test_a_model_carries_its_encoder_parses_alike_batched_and_loads_offline(
    frozen_transformer_run: Path, transformer_folder: Path, tmp_path: Path
) -> None:
    from slotfill.predict import Predictor

    model = frozen_transformer_run / "model"
    assert sorted(p.name for p in (model / "encoder").iterdir()) == sorted(TRANSFORMER_FILES)
    moved = tmp_path / "elsewhere"
    shutil.copytree(model, moved)  # the source folder is not read again: the model has its copy
    predictor = Predictor.load(moved, "cpu")
    texts = ["arrive Taipei on November 2nd", "leave Taipei on November 2nd", "cheapest fare from boston to denver"]
    alone = [predictor.parse(text, values=False) for text in texts]
    assert list(predictor.parse_many(texts, values=False)) == alone
    described = predictor.describe()["transformer"]
    assert (described["type"], described["width"], described["mode"], described["pooling"]) == (
        "bert",
        16,
        "frozen",
        "mean",
    )
    info = runner.invoke(app, ["info", str(moved)])
    assert info.exit_code == 0 and "transformer" in info.stdout


@pytest.mark.slow  # trains a model
def test_a_damaged_encoder_copy_is_refused(frozen_transformer_run: Path, tmp_path: Path) -> None:
    from slotfill.store.model_dir import load_model

    model = shutil.copytree(frozen_transformer_run / "model", tmp_path / "model")
    (model / "encoder" / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match=r"encoder/tokenizer.json: damaged or edited since it was saved"):
        load_model(model, CPU)


def _broken(folder: Path, tmp_path: Path, change: str) -> Path:
    broken = shutil.copytree(folder, tmp_path / change)
    if change == "no_tokenizer":
        (broken / "tokenizer.json").unlink()
    elif change == "not_an_encoder":
        config = json.loads((broken / "config.json").read_text())
        (broken / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    elif change == "small_vocab":
        config = json.loads((broken / "config.json").read_text())
        (broken / "config.json").write_text(json.dumps({**config, "vocab_size": 20}))
    elif change == "partial_weights":
        from safetensors.torch import load_file, save_file

        state = load_file(str(broken / "model.safetensors"))
        save_file({k: v for k, v in state.items() if "layer.1." not in k}, str(broken / "model.safetensors"))
    return broken


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize(
    "change,message",
    [
        ("no_tokenizer", r"tokenizer.json: missing \(an transformer folder holds config.json, model.safetensors, tokenizer.json\)"),
        ("not_an_encoder", r"config.json: model type 'gpt2' is not an encoder-only transformer \(slotfill reads bert, "),
        ("small_vocab", r"tokenizer.json: \d+ word pieces for a model of 20: the tokenizer does not match the weights"),
        ("partial_weights", r"model.safetensors: weights do not fit bert 16-wide \(encoder.layer.1.\S+ missing\)"),
    ],
)  # fmt: skip
def test_a_bad_transformer_folder_is_one_line_naming_the_file(
    transformer_folder: Path, tmp_path: Path, change: str, message: str
) -> None:
    broken = _broken(transformer_folder, tmp_path, change)
    with pytest.raises(ModelError, match=message):
        load_transformer_features(broken, "mean", CPU, half=True)
    config = tmp_path / f"{change}.yaml"
    config.write_text(json.dumps(tiny_config(model={"transformer": {"source": str(broken)}}).model_dump(mode="json")))
    result = runner.invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 2 and "model.transformer.source: " in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "run" / "model").exists()


def test_a_missing_folder_or_an_encoder_not_downloaded_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelError, match="no such transformer folder"):
        load_transformer_features(tmp_path / "nope", "mean", CPU, half=True)
    from slotfill.training.builders import _transformer

    monkeypatch.setenv("SLOTFILL_TRANSFORMERS", str(tmp_path / "cache"))
    config = tiny_config(model={"transformer": {"source": "all-minilm-l6-v2"}})
    with pytest.raises(
        ConfigError, match="is not downloaded .*: run `slotfill transformers download all-minilm-l6-v2`"
    ):
        _transformer(config, CPU)


def test_layers_are_averaged_and_the_ones_above_the_highest_are_not_built(transformer_folder: Path) -> None:
    from transformers import AutoModel

    from slotfill.nn.transformer import load_transformer

    full = AutoModel.from_pretrained(str(transformer_folder), local_files_only=True).eval()
    ids, mask = torch.tensor([[2, 40, 41, 42, 3]]), torch.ones(1, 5, dtype=torch.long)
    with torch.inference_mode():
        hidden = full(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    index, weight = torch.tensor([[[1], [2], [3]]]), torch.ones(1, 3, 1)  # three tokens of one piece each
    for layers, expected in (([1], hidden[1]), ([-1], hidden[2]), ([0, 1], (hidden[0] + hidden[1]) / 2)):
        encoder, _ = load_transformer(transformer_folder, layers)
        assert encoder.model.config.num_hidden_layers == max(encoder.layers)
        with torch.inference_mode():
            features = encoder.eval()(ids, mask, index, weight)
        torch.testing.assert_close(features[0], expected[0, 1:4], rtol=1e-5, atol=1e-6)
    with pytest.raises(
        ConfigError, match=r"model.transformer.layers: 3 is not a layer of the transformer in .* 1 to 2"
    ):
        load_transformer(transformer_folder, [3])
