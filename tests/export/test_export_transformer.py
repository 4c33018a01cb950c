"""slotfill export of a model with a transformer (frozen or fine-tuned): encoder/model.onnx
beside model.onnx, parses equal to torch's alone and batched, int8 close, no torch at run time,
and the encoder's files covered by the export's checksums."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import ModelError
from slotfill.export.onnx import export_model
from slotfill.export.runtime import load_exported
from slotfill.predict import Predictor

from ..conftest import DEMO, ROOT
from .test_export import TEXTS, assert_same_parses

runner = CliRunner()


@pytest.fixture(scope="module", params=["frozen", "fine_tuned"])
def transformer_model(request: pytest.FixtureRequest) -> Path:
    """The demo model that reads the tiny encoder frozen, and the one that fine-tuned it."""
    return request.getfixturevalue("frozen_transformer_run" if request.param == "frozen" else "fine_tuned_run")


@pytest.fixture(scope="module")
def exported_transformer(transformer_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "onnx"
    export_model(transformer_model, out)
    return out


def test_the_encoder_is_a_graph_of_its_own_with_its_word_pieces(
    exported_transformer: Path, transformer_model: Path
) -> None:
    assert sorted(p.name for p in (exported_transformer / "encoder").iterdir()) == ["model.onnx", "tokenizer.json"]
    info = json.loads((exported_transformer / "export.json").read_text())
    assert info["encoder"]["width"] == 16 and info["encoder"]["max_pieces"] == 64
    assert {"encoder/model.onnx", "encoder/tokenizer.json"} <= set(info["sha256"])
    described = Predictor.load(exported_transformer, "cpu").describe()["transformer"]
    model_described = Predictor.load(transformer_model, "cpu").describe()["transformer"]
    assert {k: v for k, v in described.items() if k != "bytes"} == {
        k: v for k, v in model_described.items() if k != "bytes"
    }


def test_onnxruntime_parses_an_encoder_model_exactly_as_torch(
    transformer_model: Path, exported_transformer: Path
) -> None:
    texts = TEXTS + [" ".join(e.tokens) for e in read_split(DEMO / "test")]
    torch_predictor, onnx_predictor = (
        Predictor.load(transformer_model, "cpu"),
        Predictor.load(exported_transformer, "cpu"),
    )
    expected = list(torch_predictor.parse_many(texts, now="2026-12-01T09:00"))
    batched = list(onnx_predictor.parse_many(texts, now="2026-12-01T09:00"))
    assert_same_parses(batched, expected)
    alone = [onnx_predictor.parse(text, now="2026-12-01T09:00") for text in texts[:20]]
    assert alone == batched[:20]  # exactly: a sentence's parse does not depend on its batch


def test_an_exported_encoder_model_runs_without_torch(exported_transformer: Path) -> None:
    code = (
        "import sys\n"
        "from slotfill.cli.app import app\n"
        f"app(['predict', {str(exported_transformer)!r}, 'fly to boston'], standalone_mode=False)\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "no torch"
    assert json.loads(done.stdout.splitlines()[0])["text"] == "fly to boston"


def test_int8_quantises_the_encoder_too_and_stays_close(
    transformer_model: Path, exported_transformer: Path, tmp_path: Path
) -> None:
    export_model(transformer_model, tmp_path / "int8", "int8")
    info = json.loads((tmp_path / "int8" / "export.json").read_text())
    assert info["quantize"] == "int8"
    f1 = [
        json.loads(runner.invoke(app, ["evaluate", str(d), str(DEMO / "test"), "--json"]).stdout)["slot_f1"]
        for d in (exported_transformer, tmp_path / "int8")
    ]
    assert abs(f1[0] - f1[1]) < 0.02


def test_a_damaged_exported_encoder_is_one_line(exported_transformer: Path, tmp_path: Path) -> None:
    import shutil

    damaged = shutil.copytree(exported_transformer, tmp_path / "damaged")
    (damaged / "encoder" / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match=r"encoder/tokenizer.json: damaged or edited since it was saved"):
        load_exported(damaged)
    result = runner.invoke(app, ["predict", str(damaged), "fly to boston"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
