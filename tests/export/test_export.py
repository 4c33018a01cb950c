"""slotfill export: ONNX graphs checked by the ONNX checker, onnxruntime parses equal to torch's,
the numpy CRF equal to the torch CRF, no torch imported at run time, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import ModelError
from slotfill.export.onnx import export_model
from slotfill.export.runtime import load_exported
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.nn.tagger import build_tagger
from slotfill.predict import Predictor
from slotfill.store.model_dir import save_model

from ..conftest import DEMO, ROOT, tiny_config

TEXTS = [
    "Show me flights from Boston to San Francisco on Monday morning, please.",
    "arrive Taipei on November 2nd",
    "?!",
    "cheapest fare",
    "i want to fly from denver to pittsburgh at 8:30 am on delta",
]


def without_scores(parse: dict) -> tuple[dict, list[float]]:
    """A parse without its probabilities, and the probabilities: the float32 sums of onnxruntime
    and torch differ in the last bits, which can move a 4-decimal rounding by one."""
    scores = [parse.get("intent_confidence") or 0.0]
    stripped = {**parse}
    for key in ("slots", "low_confidence", "intents", "alternatives"):
        if key in parse:
            scores += [item.get("confidence", item.get("probability", 0.0)) for item in parse[key]]
            stripped[key] = [
                {k: v for k, v in item.items() if k not in ("confidence", "probability")} for item in parse[key]
            ]
    stripped.pop("intent_confidence", None)
    return stripped, scores


def assert_same_parses(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        (parse_a, scores_a), (parse_b, scores_b) = without_scores(a), without_scores(b)
        assert parse_a == parse_b
        assert np.allclose(scores_a, scores_b, atol=2e-4)


@pytest.fixture(scope="module")
def exported(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "onnx"
    export_model(trained_run, out)
    return out


def test_the_export_is_a_checked_onnx_model_with_a_format_version(exported: Path) -> None:
    model = onnx.load(str(exported / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    recurrent = [n for n in model.graph.node if n.op_type in ("LSTM", "GRU", "RNN")]
    # one forward run per direction over the whole padded batch (the backward one over each sentence
    # reversed within its length): no sequence_lens, so no step's batch depends on the others' lengths
    assert [n.op_type for n in recurrent] == ["LSTM", "LSTM"]
    assert all(len(n.input) < 5 or n.input[4] == "" for n in recurrent)
    assert all(a.s in (b"", b"forward") for n in recurrent for a in n.attribute if a.name == "direction")
    info = json.loads((exported / "export.json").read_text())
    assert (info["format_version"], info["decoder"], info["quantize"], info["intent"]) == (2, "crf", "none", True)
    assert {p.name for p in exported.iterdir()} >= {"model.onnx", "config.yaml", "vocab.json", "metrics.json"}


def test_onnxruntime_parses_exactly_as_torch(trained_run: Path, exported: Path) -> None:
    texts = TEXTS + [" ".join(e.tokens) for e in read_split(DEMO / "test")]
    torch_predictor, onnx_predictor = Predictor.load(trained_run, "cpu"), Predictor.load(exported, "cpu")
    for options in ({"now": "2026-12-01T09:00"}, {"alternatives": 3, "min_confidence": 0.5, "now": "2026-12-01T09:00"}):
        expected = list(torch_predictor.parse_many(texts, **options))
        assert_same_parses(list(onnx_predictor.parse_many(texts, **options)), expected)


def test_the_exported_path_never_imports_torch(exported: Path) -> None:
    code = (
        "import sys\n"
        "from slotfill.cli.app import app\n"
        f"app(['predict', {str(exported)!r}, 'fly to boston'], standalone_mode=False)\n"
        f"app(['evaluate', {str(exported)!r}, {str(DEMO / 'test')!r}, '--json'], standalone_mode=False)\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "no torch"
    assert json.loads(done.stdout.splitlines()[0])["slots"][0]["text"] == "boston"


def test_evaluate_gives_the_torch_metrics(trained_run: Path, exported: Path) -> None:
    runner = CliRunner()
    results = [
        runner.invoke(app, ["evaluate", str(directory), str(DEMO / "test"), "--json"])
        for directory in (trained_run, exported)
    ]
    assert [r.exit_code for r in results] == [0, 0]
    torch_metrics, onnx_metrics = (json.loads(r.stdout) for r in results)
    assert abs(torch_metrics.pop("slot_ece") - onnx_metrics.pop("slot_ece")) < 1e-4  # from the confidences
    assert onnx_metrics == torch_metrics


def test_int8_quantisation_stays_close(trained_run: Path, exported: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(trained_run), str(tmp_path / "int8"), "--quantize", "int8"])
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"exported to {tmp_path / 'int8'} (onnx opset 17, crf decoder, quantize int8)"
    ]  # onnxruntime's quantiser printed WARNING:root lines and a protobuf fragment
    assert (tmp_path / "int8" / "model.onnx").stat().st_size < 0.6 * (exported / "model.onnx").stat().st_size
    f1 = [
        json.loads(runner.invoke(app, ["evaluate", str(d), str(DEMO / "test"), "--json"]).stdout)["slot_f1"]
        for d in (exported, tmp_path / "int8")
    ]
    assert abs(f1[0] - f1[1]) < 0.02


def _fresh_model(directory: Path, **model: object) -> Path:
    """An untrained model directory (random weights) of the given architecture: export needs no training."""
    config = tiny_config(model=model)
    examples = read_split(DEMO / "dev")
    vocab = Vocab.build(examples)
    torch.manual_seed(3)
    tagger = build_tagger(config.model, vocab, 0)
    save_model(directory, config, vocab, GazetteerSet(), tagger, {})
    return directory


@pytest.mark.parametrize(
    "architecture",
    [
        {"encoder": {"cell": "gru", "num_layers": 2}},
        {"encoder": {"cell": "rnn", "bidirectional": False}, "decoder": "softmax"},
        {"embedding": {"kind": "letter_trigram"}, "chars": {"enabled": False}, "intent": {"enabled": False}},
    ],
    ids=["gru-2-layers", "rnn-softmax", "trigrams-no-intent"],
)
def test_every_fused_architecture_exports_with_the_same_parses(architecture: dict, tmp_path: Path) -> None:
    model_dir = _fresh_model(tmp_path / "model", **architecture)
    export_model(model_dir, tmp_path / "onnx")
    texts = TEXTS + [" ".join(e.tokens) for e in read_split(DEMO / "test")[:60]]
    expected = list(Predictor.load(model_dir, "cpu").parse_many(texts, alternatives=2))
    assert_same_parses(list(Predictor.load(tmp_path / "onnx", "cpu").parse_many(texts, alternatives=2)), expected)


def test_a_hand_written_cell_is_refused_by_name(tmp_path: Path) -> None:
    model_dir = _fresh_model(tmp_path / "model", encoder={"cell": "jordan"})
    with pytest.raises(ModelError, match=r"the 'jordan' cell cannot be exported.*rnn, gru, lstm\)$"):
        export_model(model_dir, tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


def test_a_damaged_or_other_version_export_is_one_line(exported: Path, tmp_path: Path) -> None:
    import shutil

    def copy() -> Path:
        target = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(exported, target)
        return target

    newer = copy()
    info = json.loads((newer / "export.json").read_text())
    (newer / "export.json").write_text(json.dumps({**info, "format_version": 9}))
    truncated = copy()
    data = (truncated / "model.onnx").read_bytes()
    (truncated / "model.onnx").write_bytes(data[: len(data) // 2])
    # format 1 (slotfill 0.2) had no record of export.json itself, and at first none of the files
    version_1 = {k: v for k, v in info.items() if k != "info_sha256"} | {"format_version": 1}
    unrecorded = copy()  # as exported before export.json recorded checksums: onnxruntime finds the damage
    (unrecorded / "export.json").write_text(json.dumps({k: v for k, v in version_1.items() if k != "sha256"}))
    (unrecorded / "model.onnx").write_bytes(data[: len(data) // 2])
    unsealed = copy()  # a format-2 export whose file checksums were deleted, to turn them off
    (unsealed / "export.json").write_text(json.dumps({k: v for k, v in info.items() if k != "sha256"}))
    nan_start = copy()  # the checksums intact, a score edited
    (nan_start / "export.json").write_text(
        json.dumps({**info, "crf": {**info["crf"], "start": [float("nan")] + info["crf"]["start"][1:]}})
    )
    nan_start_v1 = copy()
    (nan_start_v1 / "export.json").write_text(
        json.dumps({**version_1, "crf": {**info["crf"], "start": [1e30] + info["crf"]["start"][1:]}})
    )
    other_decoder_v1 = copy()  # the graph has an intent output; export.json now says it has none
    (other_decoder_v1 / "export.json").write_text(json.dumps({**version_1, "decoder": "softmax", "intent": False}))
    edited = copy()
    (edited / "config.yaml").write_text((edited / "config.yaml").read_text().split("training:")[0])
    missing = copy()
    (missing / "vocab.json").unlink()
    wrong_crf = copy()
    (wrong_crf / "export.json").write_text(json.dumps({**version_1, "crf": {**info["crf"], "end": [0.0]}}))
    cases = {
        newer: r"export\.json: export format version 9 .* reads versions 1, 2$",
        truncated: r"model\.onnx: damaged or edited since it was saved \(its sha256 differs from the one in export\.json\)$",
        unrecorded: r"model\.onnx: damaged ONNX model",
        edited: r"config\.yaml: damaged or edited since it was saved",
        missing: r"not an exported slotfill model \(vocab\.json is missing\)",
        wrong_crf: r"export\.json: CRF scores do not fit",
        unsealed: r"export\.json: damaged or edited since it was written \(its record of itself differs\)$",
        nan_start: r"export\.json: damaged or edited since it was written",
        nan_start_v1: r"export\.json: damaged CRF scores \(not finite, or beyond 1e\+06\)$",
        other_decoder_v1: r"model\.onnx: not this model's graph \(3 outputs, export\.json says 1\)$",
    }
    for directory, message in cases.items():
        with pytest.raises(ModelError, match=message) as caught:
            load_exported(directory, "cpu")
        assert "\n" not in str(caught.value)
    result = CliRunner().invoke(app, ["predict", str(truncated), "to boston"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_a_runtime_install_runs_exports_and_names_the_extra_a_command_needs(exported: Path, tmp_path: Path) -> None:
    # as `pip install 'slotfill[runtime]'` leaves it: torch cannot be imported
    code = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "from slotfill.cli.app import run\n"
        "sys.argv = ['slotfill', *sys.argv[1:]]\n"
        "run()\n"
    )

    def slotfill(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
        )

    tagged = slotfill("predict", str(exported), "fly to boston", "leave Taipei on November 2nd", "--now", "2026-12-01")
    assert tagged.returncode == 0, tagged.stderr
    boston, taipei = (json.loads(line) for line in tagged.stdout.splitlines())
    assert boston["slots"][0]["slot"] == "toloc.city_name"
    assert boston["slots"][0]["value"] == {"kind": "city", "name": "Boston", "country": "US", "codes": ["BOS"]}
    assert taipei["frame"]["depart_date"] == {"kind": "date", "date": "2027-11-02"}  # values without torch
    refused = slotfill("train", "configs/demo.yaml", "--output", str(tmp_path / "run"))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: this command needs torch, which this installation of slotfill does not have: "
        "pip install 'slotfill[train]'"
    )


def test_serve_runs_an_exported_model(trained_run: Path, exported: Path) -> None:
    from ..serve.test_serve import call, start_server

    process, url = start_server(exported)
    try:
        status, parsed = call(url + "/parse", {"text": "fly from Boston to Denver, please"})
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert status == 200
    expected = Predictor.load(trained_run, "cpu").parse("fly from Boston to Denver, please")
    assert_same_parses([parsed], [expected])


def test_info_of_an_export_is_the_models_with_its_kind(trained_run: Path, exported: Path) -> None:
    torch_info, onnx_info = (Predictor.load(d, "cpu").describe() for d in (trained_run, exported))
    assert onnx_info["kind"] == "exported (onnxruntime)" and onnx_info["format_version"] == 2
    for key in ("intents", "slot_types", "vocabulary", "parameters", "config", "temperature", "gazetteers"):
        assert onnx_info[key] == torch_info[key]


def test_the_extra_named_for_a_missing_module_is_the_one_pyproject_puts_it_in() -> None:
    import re

    import tomllib

    from slotfill.cli.app import EXTRA_OF_MODULE

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {extra: {re.match(r"[A-Za-z0-9_.-]+", d).group().lower() for d in deps} for extra, deps in extras.items()}
    # every package of the train, runtime and vectors extras is named, with the smallest extra that brings it
    assert set(EXTRA_OF_MODULE) == names["train"] | names["runtime"] | names["vectors"]
    for module, extra in EXTRA_OF_MODULE.items():
        assert module in names[extra] and (extra == "runtime" or module not in names["runtime"]), module


def test_the_export_rejects_exactly_as_torch_alone_and_batched(trained_run: Path, exported: Path) -> None:
    calibration = json.loads((exported / "calibration.json").read_text(encoding="utf-8"))["out_of_scope"]
    assert calibration["method"] == "distance" and (exported / "out_of_scope.safetensors").is_file()
    smarthome = [json.loads(line)["text"] for line in (ROOT / "data" / "smarthome" / "test.jsonl").open()]
    texts = [" ".join(e.tokens) for e in read_split(DEMO / "test")] + smarthome
    rejected = {}
    for name, model in (("torch", trained_run), ("onnx", exported)):
        predictor = Predictor.load(model, "cpu")
        batched = [p.get("rejected") for p in predictor.parse_many(texts, values=False)]
        alone = [predictor.parse(text, values=False).get("rejected") for text in texts]
        assert batched == alone, name
        rejected[name] = batched
    assert rejected["torch"] == rejected["onnx"]
    assert 0 < sum(1 for r in rejected["torch"] if r) < len(texts)
