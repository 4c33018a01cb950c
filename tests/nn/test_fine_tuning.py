"""A transformer fine-tuned with the tagger (model.transformer.mode: fine_tuned): its own
learning rate and warm-up, its trained weights saved in the model's encoder/ folder, the same
features in training and tagging, interruption and --init-from as for any run."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from slotfill.config import config_from_dict
from slotfill.data.formats import read_split
from slotfill.errors import ConfigError
from slotfill.evaluation.evaluate import evaluate
from slotfill.features.wordpieces import POOLED_PIECES, PieceWindow, sentence_pieces, window_groups
from slotfill.nn.transformer import load_transformer_features
from slotfill.predict import Predictor
from slotfill.store.model_dir import load_model
from slotfill.training.builders import warmup_then_decay

from ..conftest import DEMO, FINE_TUNED_DATA, fine_tuned_config, tiny_config

CPU = torch.device("cpu")


def test_a_fine_tuned_encoder_has_its_learning_rate_and_warm_up_and_a_frozen_one_none() -> None:
    config = config_from_dict({"model": {"transformer": {"source": "x", "mode": "fine_tuned"}}})
    assert (config.model.transformer.lr, config.model.transformer.warmup) == (5e-5, 0.1)
    again = config_from_dict(json.loads(json.dumps(config.model_dump(mode="json"))))
    assert again == config  # a saved config reads back as it was
    with pytest.raises(ConfigError, match=r"model.transformer: .*lr is read only with mode: fine_tuned"):
        config_from_dict({"model": {"transformer": {"source": "x", "lr": 1e-4}}})
    # up over 3 steps (the first already moves), then down to 0 at step 10
    assert [round(warmup_then_decay(3, 10)(step), 4) for step in range(11)] == [
        0.25, 0.5, 0.75, 1.0, 0.8571, 0.7143, 0.5714, 0.4286, 0.2857, 0.1429, 0.0,
    ]  # fmt: skip


def test_the_encoder_is_a_group_of_its_own_in_the_optimizer(transformer_folder: Path) -> None:
    from slotfill.training.run_state import build_run

    run = build_run(fine_tuned_config(transformer_folder, lr=2e-4, warmup=0.5), Path("unused"))
    tagger_group, encoder_group = run.optimization.optimizer.param_groups
    encoder = {id(p) for p in run.model.tagger.transformer.parameters()}
    assert {id(p) for p in encoder_group["params"]} == encoder and encoder
    assert not encoder & {id(p) for p in tagger_group["params"]}
    assert len(tagger_group["params"]) + len(encoder_group["params"]) == len(list(run.model.tagger.parameters()))
    steps = 3 * run.batches_per_epoch()  # 3 epochs of the 300 sentences and their out-of-scope noise
    warmup = round(0.5 * steps)
    assert encoder_group["lr"] == pytest.approx(2e-4 / (warmup + 1))  # the first step of the warm-up
    assert tagger_group["lr"] == pytest.approx(0.003)
    assert [run.optimization.schedule.lr_lambdas[1](step) for step in (0, warmup, steps)] == [
        1 / (warmup + 1),
        1.0,
        0.0,
    ]


def test_training_and_tagging_compute_the_same_features(transformer_folder: Path) -> None:
    """The batch of a training step (every window at once, padded to the longest) and the
    batch-invariant groups of tagging give a sentence the same features."""
    words = load_transformer_features(transformer_folder, "mean", CPU, half=False)
    sentences = [["flights", "to", "boston"], ["show", "me", "the", "cheapest", "fare", "from", "denver"] * 3, ["hi"]]
    windows = [words.reader.windows(tokens) for tokens in sentences]
    arrays = sentence_pieces(windows, "mean", words.reader.pieces.pad_id)
    with torch.inference_mode():
        trained = words.transformer(*(torch.from_numpy(a) for a in arrays)).numpy()  # (B, L, H)
    for row, (tokens, tagged) in enumerate(zip(sentences, words(sentences))):
        np.testing.assert_allclose(trained[row, : len(tokens)], tagged, rtol=1e-5, atol=1e-6)


def test_a_token_of_many_pieces_pools_its_first_ones() -> None:
    many = list(range(10, 22))  # a token of 12 pieces, between [CLS] 2 and [SEP] 3
    window = PieceWindow([2, *many, 5, 3], [list(range(1, 13)), [13]], 0)
    ((_, arrays),) = window_groups([window], "mean", 0)
    assert arrays.index[0, 0].tolist() == list(range(1, 1 + POOLED_PIECES))
    assert arrays.weight[0, 0].tolist() == [1 / POOLED_PIECES] * POOLED_PIECES
    assert arrays.index[0, 1].tolist() == [13] + [0] * (POOLED_PIECES - 1)
    assert arrays.weight[0, 1].tolist() == [1.0] + [0.0] * (POOLED_PIECES - 1)
    ((_, first),) = window_groups([window], "first", 0)
    assert first.weight[0, :, 0].tolist() == [1.0, 1.0] and not first.weight[0, :, 1:].any()


@pytest.mark.slow  # trains a model
def test_fine_tuning_trains_the_encoder_and_the_model_carries_it(
    fine_tuned_run: Path, transformer_folder: Path, tmp_path: Path
) -> None:
    model = fine_tuned_run / "model"
    source, trained = (
        load_file(str(transformer_folder / "model.safetensors")),
        load_file(str(model / "encoder" / "model.safetensors")),
    )
    assert source.keys() == trained.keys()
    assert all(not torch.equal(source[name], trained[name]) for name in source if "position_ids" not in name)
    assert not [name for name in load_file(str(model / "model.safetensors")) if name.startswith("pretrained.")]
    moved = shutil.copytree(model, tmp_path / "elsewhere")
    loaded = load_model(moved, CPU)
    assert loaded.tagger.transformer is None  # tagging reads the features, as for a frozen transformer
    # the dev scores of the best epoch, computed in training with the encoder being trained, are
    # the loaded model's: the weights saved are the ones evaluated, and read back to the last bit
    metrics = json.loads((model / "metrics.json").read_text())
    again = evaluate(loaded.decoder, loaded.vocab, read_split(DEMO / "test"), 256, gazetteers=loaded.gazetteers).metrics
    assert {k: v for k, v in again.items() if k != "per_slot"} == metrics["dev"]
    predictor = Predictor.load(moved, "cpu")
    texts = ["arrive Taipei on November 2nd", "leave Taipei on November 2nd", "cheapest fare from boston to denver"]
    alone = [predictor.parse(text, values=False) for text in texts]
    assert list(predictor.parse_many(texts, values=False)) == alone
    described = predictor.describe()["transformer"]
    assert (described["mode"], described["width"], described["parameters"]) == ("fine_tuned", 16, 11328)


@pytest.mark.slow  # trains a model
def test_an_interrupted_fine_tuning_run_resumes_to_the_uninterrupted_weights(
    fine_tuned_run: Path, transformer_folder: Path, tmp_path: Path
) -> None:
    from slotfill.training.loop import TrainingInterrupted, resume_training, train

    from ..themes.test_interrupt import StopAfter, assert_same_run

    stop = threading.Event()
    with pytest.raises(TrainingInterrupted):
        train(fine_tuned_config(transformer_folder), tmp_path / "run", StopAfter(13, stop), stop=stop)
    resume_training(tmp_path / "run")
    assert_same_run(fine_tuned_run, tmp_path / "run")
    whole, resumed = (
        load_file(str(run / "model" / "encoder" / "model.safetensors")) for run in (fine_tuned_run, tmp_path / "run")
    )
    assert whole.keys() == resumed.keys() and all(torch.equal(whole[k], resumed[k]) for k in whole)


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize("mode", ["fine_tuned", "frozen"])
def test_init_from_a_fine_tuned_model_starts_from_its_trained_encoder(
    fine_tuned_run: Path, transformer_folder: Path, tmp_path: Path, mode: str
) -> None:
    from slotfill.training.finetune import start_from
    from slotfill.training.run_state import build_run

    config = (
        fine_tuned_config(transformer_folder)
        if mode == "fine_tuned"
        else tiny_config(model={"transformer": {"source": "all-minilm-l6-v2"}}, data=FINE_TUNED_DATA)
    )  # a source the model's encoder replaces: not even downloaded here
    config, start = start_from(fine_tuned_run, config)
    assert config.model.transformer.source == str((fine_tuned_run / "model" / "encoder").resolve())
    run = build_run(config, tmp_path / "run", start=start)
    encoder = run.model.tagger.transformer if mode == "fine_tuned" else run.model.transformer_features.transformer
    trained = load_file(str(fine_tuned_run / "model" / "encoder" / "model.safetensors"))
    assert all(torch.equal(tensor, trained[name]) for name, tensor in encoder.model.state_dict().items())


@pytest.mark.slow  # trains a model
def test_a_fine_tuned_encoder_of_fewer_layers_keeps_the_ones_above_as_they_were(
    transformer_folder: Path, tmp_path: Path
) -> None:
    from slotfill.training.loop import train

    config = fine_tuned_config(transformer_folder, layers=[1])
    train(config.model_copy(update={"training": config.training.model_copy(update={"epochs": 1})}), tmp_path / "run")
    source = load_file(str(transformer_folder / "model.safetensors"))
    saved = load_file(str(tmp_path / "run" / "model" / "encoder" / "model.safetensors"))
    assert saved.keys() == source.keys()  # the whole model: any transformers reader takes the folder
    assert all(torch.equal(saved[k], source[k]) for k in source if ".layer.1." in k)  # not built, not trained
    assert not torch.equal(saved["encoder.layer.0.output.dense.weight"], source["encoder.layer.0.output.dense.weight"])
    predictor = Predictor.load(tmp_path / "run", "cpu")
    assert predictor.describe()["transformer"]["layers"] == [1]
    assert predictor.parse("cheapest fare from boston to denver", values=False)["tokens"][-1] == "denver"


@pytest.mark.slow  # trains a model
def test_a_model_with_an_encoder_grows_its_lists_resolves_values_and_is_annotated(
    transformer_folder: Path, tmp_path: Path
) -> None:
    """What works for any model works for one with a (fine-tuned) encoder: a list grown without
    retraining, slot values and frames, an annotation session on its parses, and their rejection."""
    from slotfill.annotation.session import Session
    from slotfill.features.gazetteer import GazetteerUpdate
    from slotfill.training.loop import train

    from ..conftest import gazetteer_config

    features = {"source": str(transformer_folder), "mode": "fine_tuned", "lr": 1e-3}
    config = gazetteer_config(model={"transformer": features}, training={"epochs": 1}, data=FINE_TUNED_DATA)
    train(config, tmp_path / "run")
    grown = [GazetteerUpdate.from_spec(f"city={DEMO.parent / 'gazetteers' / 'new_cities.txt'}")]
    predictor = Predictor.load(tmp_path / "run", "cpu", gazetteers=grown)
    city = next(g for g in predictor.gazetteers.gazetteers if g.name == "city")
    assert ("early", "early texas") in {tuple(form.lower() for form in entry) for entry in city.entries}
    parsed = predictor.parse("fly from boston to denver on november 2nd", now="2026-12-01T09:00")
    assert "frame" in parsed and parsed["tokens"][-2:] == ["november", "2nd"]
    texts = ["fly from boston to denver", "thanks", "what is the meaning of life"]
    parses = list(predictor.parse_many(texts, alternatives=1, values=False))
    session = Session(parses, tmp_path / "corrected.jsonl", "m", order="rejected")
    rejected = [p["text"] for p in parses if "rejected" in p]
    assert [item["text"] for item in session.queue[: len(rejected)]] == rejected  # the rejected first
    while session.current is not None:
        session.command("")  # accepted as it is
    written = [json.loads(line) for line in (tmp_path / "corrected.jsonl").read_text().splitlines()]
    assert {r["text"]: r["intent"] for r in written if r["text"] in rejected} == {text: "oos" for text in rejected}
