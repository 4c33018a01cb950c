#!/usr/bin/env python3
"""Out-of-scope rejection measured (docs/out-of-scope.md): each dataset's config trained with
each seed, with and without noise, and each trained model's rejection fitted three ways (the
distance, 0.4's confidence threshold, the out-of-scope class alone) without training it again;
each scored on its test split and shown the other datasets' test utterances, which it should reject.

    python scripts/bench/out_of_scope.py [--seeds 13,1,2] [--out bench/out_of_scope] [--datasets clinc150,atis,snips,smarthome] [--resume]

Trainings: "noise" is the config as shipped (out-of-scope noise, half of it fluent), "no noise"
sets out_of_scope.noise=0. Rejections: "distance" is the default (keep 0.998 of the in-scope
training utterances, out of fold, and dev), "confidence" 0.4's threshold on dev (keep 0.995),
"class" the out-of-scope class alone (none for a model without noise or out-of-scope examples:
every utterance gets an intent). Every training runs in a child process (`slotfill train`); the
rejection is refitted in this process (slotfill.evaluation.out_of_scope.fit_rejection, as training
fits it) and written into the model, then scored by `slotfill evaluate --json` and `slotfill
predict --input`. Writes OUT/results.json and OUT/results.md after each dataset; `--resume` keeps
the runs OUT/results.json already holds. Run alone: it trains for hours on 2 cores.
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
TRAININGS = {"noise": [], "no noise": ["out_of_scope.noise=0"]}
REJECTIONS = {"distance": ("distance", 0.998), "confidence": ("confidence", 0.995), "class": ("class", 0.998)}
# dataset -> (config, the data.dir override, the train, dev and test splits)
DATASETS = {
    "clinc150": ("configs/clinc150.yaml", None, ("train.jsonl", "dev.jsonl", "test.jsonl")),
    "atis": ("configs/atis.yaml", SHARED / "atis", ("train", "dev", "test")),
    "snips": ("configs/snips.yaml", SHARED / "snips", ("train", "dev", "test")),
    "smarthome": ("configs/smarthome.yaml", None, ("train.jsonl", "dev.jsonl", "test.jsonl")),
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

    split = data_dir(dataset) / DATASETS[dataset][2][2]
    examples = read_split(split)
    scope_label = {"clinc150": "oos", "smarthome": "out_of_domain"}.get(dataset)
    return [e.text or " ".join(e.tokens) for e in examples if e.intent != scope_label]


def run(dataset: str, training: str, seed: int, scratch: Path, others: dict[str, list[str]]) -> dict:
    """One trained model, its rejection fitted each way: {rejection: measures}."""
    config, directory, (_, _, test) = DATASETS[dataset]
    overrides = [*TRAININGS[training], f"seed={seed}", "device=cpu"]
    if directory is not None:
        overrides.append(f"data.dir={directory}")
    output = scratch / f"{dataset}-{training.replace(' ', '-')}-{seed}"  # removed once measured
    slotfill("train", str(ROOT / config), "--output", str(output), *[a for o in overrides for a in ("--set", o)])
    measured = {}
    for rejection, (method, keep) in REJECTIONS.items():
        calibration = refit(output / "model", dataset, method, keep)
        measured[rejection] = score(output, dataset, test, others) | {"seed": seed, "calibration": calibration}
        print(dataset, training, rejection, json.dumps(measured[rejection]), flush=True)
    shutil.rmtree(output)
    return measured


def refit(model_dir: Path, dataset: str, method: str, keep: float) -> dict:
    """The model's rejection fitted again with `method` and `keep`, as training fits it, and saved."""
    import torch

    from slotfill.data.formats import read_split
    from slotfill.evaluation.out_of_scope import fit_rejection
    from slotfill.store.calibration import replace_rejection
    from slotfill.store.model_dir import load_model

    loaded = load_model(model_dir, torch.device("cpu"))
    train, dev, _ = (read_split(data_dir(dataset) / name) for name in DATASETS[dataset][2])
    settings = loaded.config.out_of_scope.model_copy(update={"method": method, "keep": keep})
    fitted, rejection = fit_rejection(
        loaded.decoder, loaded.vocab, dev, settings, train=train, gazetteers=loaded.gazetteers
    )
    replace_rejection(model_dir, fitted, rejection.index)
    return fitted


def score(output: Path, dataset: str, test: str, others: dict[str, list[str]]) -> dict:
    metrics = json.loads(slotfill("evaluate", str(output), str(data_dir(dataset) / test), "--json"))
    measured = {
        key: metrics.get(key)
        for key in (
            "intent_accuracy",
            "intent_accuracy_without_rejection",
            "in_scope_rejected",
            "slot_f1",
            "rejected",
            "sentences",
        )
    }
    measured["out_of_scope"] = {k: v for k, v in metrics.get("out_of_scope", {}).items() if k != "confidence_histogram"}
    measured["other_domains"] = {}
    for other, texts in others.items():
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write("".join(t + "\n" for t in texts))
        parses = [
            json.loads(line)
            for line in slotfill("predict", str(output), "--input", handle.name, "--no-values").splitlines()
        ]
        Path(handle.name).unlink()
        measured["other_domains"][other] = sum(1 for p in parses if p.get("rejected")) / len(parses)
    return measured


def mean(values: list[float]) -> str:
    if not values:
        return ""
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def table(results: dict) -> str:
    lines = []
    for dataset, trainings in results.items():
        first = next(iter(next(iter(trainings.values())).values()))[0]
        others = sorted(first["other_domains"])
        clinc = dataset == "clinc150"
        head = ["training", "rejection", "intent acc.", "without rejection", "in-scope rejected"]
        if clinc:
            head[2:] = ["in-scope acc.", "in-scope rejected", "OOS recall", "OOS precision", "OOS F1"]
        head += [f"{o} rejected" for o in others]
        lines += [f"### {dataset}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for training, rejections in trainings.items():
            for rejection, runs in rejections.items():
                if clinc:
                    keys = (
                        "in_scope_accuracy",
                        "in_scope_rejected",
                        "out_of_scope_recall",
                        "out_of_scope_precision",
                        "out_of_scope_f1",
                    )
                    cells = [mean([100 * r["out_of_scope"][k] for r in runs]) for k in keys]
                else:
                    keys = ("intent_accuracy", "intent_accuracy_without_rejection", "in_scope_rejected")
                    cells = [mean([100 * r[k] for r in runs]) for k in keys]
                cells += [mean([100 * r["other_domains"][o] for r in runs]) for o in others]
                seeds = ",".join(str(r["seed"]) for r in runs)
                lines.append(f"| {training} | {rejection} (seeds {seeds}) | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="13,1,2")
    parser.add_argument("--out", type=Path, default=Path("bench/out_of_scope"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--trainings", default=",".join(TRAININGS))
    parser.add_argument("--resume", action="store_true", help="keep the runs OUT/results.json holds")
    args = parser.parse_args()
    texts = {dataset: in_scope_texts(dataset) for dataset in DATASETS if dataset != "clinc150"}
    results: dict[str, dict[str, dict[str, list]]] = {}
    if args.resume and (args.out / "results.json").exists():
        results = json.loads((args.out / "results.json").read_text())
    with tempfile.TemporaryDirectory(prefix="slotfill-oos-") as scratch:
        for dataset in args.datasets.split(","):
            others = {name: lines for name, lines in texts.items() if name != dataset}
            for training in args.trainings.split(","):
                rejections = results.setdefault(dataset, {}).setdefault(training, {})
                for seed in (int(s) for s in args.seeds.split(",")):
                    if any(r["seed"] == seed for r in rejections.get("distance", [])):
                        continue
                    for rejection, measured in run(dataset, training, seed, Path(scratch), others).items():
                        rejections.setdefault(rejection, []).append(measured)
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
                (args.out / "results.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
