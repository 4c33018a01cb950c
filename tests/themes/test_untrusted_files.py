"""A model directory is data, never code: no pickle is ever loaded from it."""

import pickle
import re
import shutil
from pathlib import Path

import pytest
import torch

from slotfill.errors import ModelError
from slotfill.store.model_dir import load_model

from ..conftest import written_before_checksums


class Exploit:
    """Unpickling this creates the marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def planted_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(Exploit(marker)))


def test_pickles_beside_the_weights_are_ignored(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    marker = tmp_path / "pwned"
    for name in ("pytorch_model.bin", "model.pt", "optimizer.pt", "vocab.pkl"):
        planted_pickle(model / name, marker)
    load_model(model, torch.device("cpu"))
    assert not marker.exists()


def test_a_pickle_in_place_of_the_weights_is_refused(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    marker = tmp_path / "pwned"
    planted_pickle(model / "model.safetensors", marker)
    with pytest.raises(ModelError, match="damaged weights"):
        load_model(model, torch.device("cpu"))
    torch.save({"x": Exploit(marker)}, model / "model.safetensors")  # a torch.save zip file
    with pytest.raises(ModelError, match="damaged weights"):
        load_model(model, torch.device("cpu"))
    assert not marker.exists()


def test_incompatible_format_version_is_refused(trained_run: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    weights = load_file(str(model / "model.safetensors"))
    save_file(weights, str(model / "model.safetensors"), metadata={"format_version": "99", "slotfill_version": "9.0"})
    with pytest.raises(ModelError, match=r"model format version 99 \(slotfill 9.0\)"):
        load_model(model, torch.device("cpu"))


def test_weights_that_do_not_fit_the_config(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    written_before_checksums(model)
    config = (model / "config.yaml").read_text().replace("hidden_size: 48", "hidden_size: 50")
    (model / "config.yaml").write_text(config)
    reason = r"\(encoder\.fused\.weight_ih_l0 is \[192, \d+\] in the file, \[200, \d+\] for the config\)"
    with pytest.raises(ModelError, match="weights do not fit the config and vocabulary " + reason):
        load_model(model, torch.device("cpu"))


def line_cuts(text: str) -> list[int]:
    """Every position just after a newline: a cut there leaves well-formed lines (for YAML often a
    valid document whose lost keys would take their defaults)."""
    return [i + 1 for i, char in enumerate(text[:-1]) if char == "\n"]


def test_truncated_or_edited_files_are_refused(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    for name in ("config.yaml", "vocab.json", "gazetteers/index.json"):
        path = model / name
        if not path.exists():
            continue
        original = path.read_bytes()
        for cut in [*line_cuts(original.decode()), len(original) // 2]:
            path.write_bytes(original[:cut])
            with pytest.raises(ModelError, match=f"{name}: damaged or edited since it was saved"):
                load_model(model, torch.device("cpu"))
        path.write_bytes(original.replace(b"48", b"47", 1) if name == "config.yaml" else original + b" ")
        with pytest.raises(ModelError, match=f"{name}: damaged or edited"):
            load_model(model, torch.device("cpu"))
        path.write_bytes(original)
    (model / "vocab.json").unlink()
    with pytest.raises(ModelError, match="vocab.json is missing"):
        load_model(model, torch.device("cpu"))


def test_without_checksums_a_damaged_file_is_still_caught_by_parsing(trained_run: Path, tmp_path: Path) -> None:
    for name, message in (("config.yaml", "damaged config"), ("vocab.json", "vocab.json: cannot read")):
        model = tmp_path / name
        shutil.copytree(trained_run / "model", model)
        written_before_checksums(model)
        data = (model / name).read_bytes()
        (model / name).write_bytes(data.replace(b"model:", b"model: [") if name == "config.yaml" else data[:-20])
        with pytest.raises(ModelError, match=message):
            load_model(model, torch.device("cpu"))
        shutil.copyfile(trained_run / "model" / name, model / name)
        load_model(model, torch.device("cpu"))


def test_a_damaged_checksum_record_is_one_line(trained_run: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    for record in ("{", '{"../../etc/passwd": "0"}', "[1]"):
        meta = {"format_version": "2", "slotfill_version": "0.2.0", "sha256": record}
        save_file(load_file(str(model / "model.safetensors")), str(model / "model.safetensors"), metadata=meta)
        with pytest.raises(ModelError, match=r"model.safetensors: damaged file checksums$"):
            load_model(model, torch.device("cpu"))


def test_damaged_metrics_are_one_line_for_a_model_and_an_export(trained_run: Path, tmp_path: Path) -> None:
    from slotfill.export.onnx import export_model
    from slotfill.export.runtime import load_exported

    model, exported = tmp_path / "model", tmp_path / "exported"
    shutil.copytree(trained_run / "model", model)
    export_model(model, exported)
    for damaged, load in ((model, lambda d: load_model(d, torch.device("cpu"))), (exported, load_exported)):
        for content, reason in (
            ('{"dev": ', "damaged metrics (Expecting value"),
            ("[1, 2]", "damaged metrics (not a JSON object)"),
        ):
            (damaged / "metrics.json").write_text(content)
            with pytest.raises(ModelError, match=re.escape(f"metrics.json: {reason}")):
                load(damaged)
        (damaged / "metrics.json").unlink()
        assert load(damaged).metrics == {}
