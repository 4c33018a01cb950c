#!/usr/bin/env python3
"""Out-of-scope rejection measured (docs/out-of-scope.md): each dataset's config trained
with N seeds under several `out_of_scope` settings, scored on its test split, and shown the other
datasets' test utterances, which it should reject.

    python scripts/bench/out_of_scope.py [--seeds 3] [--out bench/out_of_scope] [--datasets clinc150,atis,snips,smarthome] [--resume]

Settings: "off" is slotfill before the rejection (no noise, no threshold: every utterance gets an
intent, as in 0.3); "threshold" fits the confidence threshold on dev without noise; "words" is
noise of random words and the threshold (the default before fluent noise); "default" is the config
as shipped (half the noise fluent, the threshold); "words + encoder" adds the frozen
all-MiniLM-L6-v2 (third layer) to "words". Every training runs in a child process (`slotfill
train`), every score is `slotfill evaluate --json` and `slotfill predict --input` of the saved model. Writes OUT/results.json
and OUT/results.md after each dataset; `--resume` keeps the runs OUT/results.json already holds
(same dataset, setting and seed) and trains only the missing ones. Run alone (it times nothing,
but it trains for hours on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SETTINGS = {
    "off": ["out_of_scope.noise=0", "out_of_scope.method=class"],
    "threshold": ["out_of_scope.noise=0"],
    "words": ["out_of_scope.fluent=0"],
    "default": [],
    "words + encoder": ["out_of_scope.fluent=0", "model.encoder_features={source: all-minilm-l6-v2, layers: [3]}"],
}
# dataset -> (config, the data.dir override, the test split, the settings measured)
DATASETS = {
    "clinc150": (
        "configs/clinc150.yaml",
        None,
        "test.jsonl",
        ("off", "threshold", "words", "default", "words + encoder"),
    ),
    "atis": ("configs/atis.yaml", SHARED / "atis", "test", ("off", "words", "default")),
    "snips": ("configs/snips.yaml", SHARED / "snips", "test", ("off", "words", "default")),
    "smarthome": ("configs/smarthome.yaml", None, "test.jsonl", ("off", "words", "default")),
}


def slotfill(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "slotfill.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"slotfill {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def data_dir(dataset: str) -> Path:
    directory = DATASETS[dataset][1]
    if directory is not None:
        return directory
    if dataset == "smarthome":
        return ROOT / "data" / "smarthome"
    return Path(slotfill("data", "path", dataset).strip())


def in_scope_texts(dataset: str) -> list[str]:
    """The test utterances of a dataset, as typed, that are in its own scope: what the other
    datasets' models should reject."""
    from slotfill.data.formats import read_split

    split = data_dir(dataset) / DATASETS[dataset][2]
    examples = read_split(split)
    scope_label = {"clinc150": "oos", "smarthome": "out_of_domain"}.get(dataset)
    return [e.text or " ".join(e.tokens) for e in examples if e.intent != scope_label]


def run(dataset: str, setting: str, seed: int, scratch: Path, others: dict[str, list[str]]) -> dict:
    config, directory, test, _ = DATASETS[dataset]
    overrides = [*SETTINGS[setting], f"seed={seed}", "device=cpu"]
    if directory is not None:
        overrides.append(f"data.dir={directory}")
    output = scratch / f"{dataset}-{setting.replace(' + ', '-')}-{seed}"  # removed once measured
    slotfill("train", str(ROOT / config), "--output", str(output), *[a for o in overrides for a in ("--set", o)])
    metrics = json.loads(slotfill("evaluate", str(output), str(data_dir(dataset) / test), "--json"))
    calibration = json.loads((output / "model" / "calibration.json").read_text()).get("out_of_scope", {})
    measured = {
        "seed": seed,
        "intent_accuracy": metrics["intent_accuracy"],
        "slot_f1": metrics["slot_f1"],
        "rejected": metrics.get("rejected", 0),
        "sentences": metrics["sentences"],
        "threshold": calibration.get("threshold"),
        "out_of_scope": {k: v for k, v in metrics.get("out_of_scope", {}).items() if k != "confidence_histogram"},
        "other_domains": {},
    }
    for other, texts in others.items():
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write("".join(t + "\n" for t in texts))
        parses = [
            json.loads(line)
            for line in slotfill("predict", str(output), "--input", handle.name, "--no-values").splitlines()
        ]
        Path(handle.name).unlink()
        measured["other_domains"][other] = sum(1 for p in parses if p.get("rejected")) / len(parses)
    shutil.rmtree(output)
    print(dataset, setting, json.dumps(measured), flush=True)
    return measured


def mean(values: list[float]) -> str:
    if not values:
        return ""
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def table(results: dict) -> str:
    lines = []
    for dataset, settings in results.items():
        others = sorted(next(iter(settings.values()))[0]["other_domains"])
        head = ["setting", "intent acc.", "rejected (test)", *[f"{o} rejected" for o in others]]
        clinc = dataset == "clinc150"
        if clinc:
            head[1:3] = ["in-scope acc.", "in-scope rejected", "OOS recall", "OOS precision", "OOS F1", "AUROC"]
        lines += [f"### {dataset}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for setting, runs in settings.items():
            if clinc:
                keys = (
                    "in_scope_accuracy",
                    "in_scope_rejected",
                    "out_of_scope_recall",
                    "out_of_scope_precision",
                    "out_of_scope_f1",
                    "auroc",
                )
                cells = [mean([100 * r["out_of_scope"][k] for r in runs]) for k in keys]
            else:
                cells = [
                    mean([100 * r["intent_accuracy"] for r in runs]),
                    mean([100 * r["rejected"] / r["sentences"] for r in runs]),
                ]
            cells += [mean([100 * r["other_domains"][o] for r in runs]) for o in others]
            lines.append(f"| {setting} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/out_of_scope"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--resume", action="store_true", help="keep the runs OUT/results.json holds")
    args = parser.parse_args()
    chosen = args.datasets.split(",")
    texts = {dataset: in_scope_texts(dataset) for dataset in DATASETS if dataset != "clinc150"}
    results: dict[str, dict[str, list]] = {}
    if args.resume and (args.out / "results.json").exists():
        results = json.loads((args.out / "results.json").read_text())
    with tempfile.TemporaryDirectory(prefix="slotfill-oos-") as scratch:
        for dataset in chosen:
            others = {name: lines for name, lines in texts.items() if name != dataset}
            for setting in DATASETS[dataset][3]:
                runs = results.setdefault(dataset, {}).setdefault(setting, [])
                for seed in range(1, args.seeds + 1):
                    if any(r["seed"] == seed for r in runs):
                        continue
                    runs.append(run(dataset, setting, seed, Path(scratch), others))
                    runs.sort(key=lambda r: r["seed"])
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
            (args.out / "results.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
