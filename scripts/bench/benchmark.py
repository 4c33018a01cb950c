#!/usr/bin/env python3
"""Benchmark slotfill on ATIS: train CONFIG with N seeds; score each model on the standard test set
and on its open-world variant; time tagging.

    python scripts/bench/benchmark.py [--config configs/atis.yaml] [--seeds 3] [--out bench]
    python scripts/bench/benchmark.py --source /tmp/before --out bench/before   # an earlier checkout, same way
    python scripts/bench/benchmark.py --dataset snips --config configs/snips.yaml --out bench/snips

Each seed trains in a child process of its own (so peak memory is that run's alone). The standard
test set is scored as published results are, by `slotfill evaluate --json` on its gold tokens
("test"), and also as a user meets the model ("test as typed"): the sentences go in as raw text
through `slotfill predict --input` (tokeniser, punctuation handling, CRF decoding included) and the
parses are scored against the gold tags with seqeval (a sentence the tokeniser splits differently
from the gold tokens counts as all wrong). Every other set is scored as typed. The open-world test set is made by
scripts/data/make_openworld.py (cities, airports and codes ATIS never names, cased and punctuated as
people type); "city sentences" are the test sentences that name a city (771 of 893). The check
sets in data/checks/ give the Taipei sentences and the gazetteer false positives. A fresh child
then loads the saved model, as a user would, and times batch tagging (raw text in, parses out) and
one-sentence latency. With `--source`, the children import slotfill from that checkout instead of
this one, so an earlier version is measured by the same script in the same way.

Writes OUT/results.json and OUT/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "data" / "checks"
TRAPS = {"may", "charlotte", "phoenix", "all", "can", "get", "for", "man", "and", "say", "far", "who", "sea", "red"}
# published ATIS test results: slot F1, intent accuracy, sentence accuracy (None: not reported)
REFERENCES_SNIPS = [
    ("Stack-Propagation (Qin et al. 2019)", 94.2, 98.0, 86.9),
    ("JointBERT (pretrained BERT), reruns", 97.0, 98.6, 92.8),
]
REFERENCES = [
    ("Joint BiLSTM (Hakkani-Tür et al. 2016), rerun", 94.2, 92.6, 80.7),
    ("Slot-Gated (Goo et al. 2018)", 94.8, 93.6, 82.2),
    ("Stack-Propagation (Qin et al. 2019), rerun", 95.4, 96.9, 85.9),
    ("JointBERT (pretrained BERT), reruns", 95.7, 97.9, 88.4),
]


def worker(config: str, seed: int, overrides: list[str], run_dir: Path) -> dict:
    """Train one seed; peak memory is this process's (training)."""
    from slotfill.config import load_config

    try:
        from slotfill.training.loop import train
    except ImportError:  # a checkout from before the stage folders (0.1, 0.2)
        from slotfill.train import train

    config_ = load_config(config, [*overrides, f"seed={seed}", "device=cpu"])
    result = train(config_, run_dir)
    return {
        "seed": seed,
        "dev": result.dev,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def speed(model_dir: Path, texts_file: Path) -> dict:
    """Tagging speed of a saved model in a fresh process, as a user loads it: batch throughput
    (median of 7 passes over the test sentences, raw text in, parses out) and one-sentence latency."""
    import torch

    from slotfill.predict import Predictor

    predictor = Predictor.load(model_dir, "cpu", batch_size=256)
    texts = texts_file.read_text(encoding="utf-8").splitlines()
    list(predictor.parse_many(texts))  # warm-up
    batch_seconds = []
    for _ in range(7):
        start = time.perf_counter()
        parsed = list(predictor.parse_many(texts))
        batch_seconds.append(time.perf_counter() - start)
    assert len(parsed) == len(texts)
    latencies = []
    for text in texts:
        start = time.perf_counter()
        predictor.parse(text)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {
        "parameters": sum(p.numel() for p in predictor.loaded.tagger.parameters()),
        "batch_sentences_per_second": round(len(texts) / statistics.median(batch_seconds), 1),
        "single_sentences_per_second": round(len(latencies) / sum(latencies), 1),
        "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 3),
        "latency_ms_p95": round(1000 * latencies[int(len(latencies) * 0.95)], 3),
        "torch_threads": torch.get_num_threads(),
    }


def cold_start(source: Path, model_dir: Path, repeats: int = 3) -> float:
    """Median wall time of `slotfill predict MODEL TEXT` in a fresh process: import, load, one parse."""
    command = [sys.executable, "-m", "slotfill.cli", "predict", str(model_dir), "from boston to denver"]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=child_env(source), check=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def child_env(source: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(source)}


def child(source: Path, *args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=child_env(source))
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def predict(source: Path, model_dir: Path, texts: list[str]) -> list[dict]:
    """Parses of `texts` by `slotfill predict --input`, from the given checkout."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as handle:
        handle.write("".join(text + "\n" for text in texts))
    try:
        command = [sys.executable, "-m", "slotfill.cli", "predict", str(model_dir), "--input", handle.name]
        done = subprocess.run(command, capture_output=True, text=True, env=child_env(source), check=True)
    finally:
        os.unlink(handle.name)
    return [json.loads(line) for line in done.stdout.splitlines()]


class Gold:
    """A labelled set: the texts a user types and the gold tags of their tokens."""

    def __init__(
        self,
        texts: list[str],
        tokens: list[list[str]],
        tags: list[list[str]],
        intents: list[str | None],
        path: Path | None = None,
    ) -> None:
        self.texts, self.tokens, self.tags, self.intents, self.path = texts, tokens, tags, intents, path

    @classmethod
    def atis(cls, split: Path) -> Gold:
        lines = {
            name: (split / name).read_text(encoding="utf-8").splitlines() for name in ("seq.in", "seq.out", "label")
        }
        texts_file = split / "text.txt"
        texts = texts_file.read_text(encoding="utf-8").splitlines() if texts_file.exists() else lines["seq.in"]
        tokens, tags = [s.split() for s in lines["seq.in"]], [s.split() for s in lines["seq.out"]]
        return cls(texts, tokens, tags, lines["label"], split)

    @classmethod
    def jsonl(cls, path: Path) -> Gold:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return cls(
            [" ".join(r["tokens"]) for r in rows],
            [r["tokens"] for r in rows],
            [r["tags"] for r in rows],
            [r.get("intent") for r in rows],
        )

    def subset(self, keep: list[int]) -> Gold:
        return Gold(*([items[i] for i in keep] for items in (self.texts, self.tokens, self.tags, self.intents)))


def scores(gold: Gold, parses: list[dict]) -> dict:
    from slotfill.evaluation.scoring import score  # this checkout's scorer (seqeval), whatever version made the parses

    predicted = [p["tags"] if p["tokens"] == tokens else ["O"] * len(tokens) for p, tokens in zip(parses, gold.tokens)]
    metrics = score(gold.tags, predicted, gold.intents, [p.get("intent") for p in parses])
    metrics["tokenised_differently"] = sum(p["tokens"] != tokens for p, tokens in zip(parses, gold.tokens))
    return {k: v for k, v in metrics.items() if k != "per_slot"}


def false_positives(gold: Gold, parses: list[dict]) -> dict:
    """How many words of data/checks/false_positives.jsonl that are in a gazetteer, but no slot
    in their context, a model tags as a slot."""
    traps = tagged = 0
    for tokens, tags, parse in zip(gold.tokens, gold.tags, parses):
        for i, (token, tag) in enumerate(zip(tokens, tags)):
            if token.lower() in TRAPS and tag == "O":
                traps += 1
                tagged += parse["tags"][i] != "O"
    return {
        "trap_words": traps,
        "tagged_as_slot": tagged,
        "sentence_accuracy": scores(gold, parses)["sentence_accuracy"],
    }


def evaluate_tokens(source: Path, model_dir: Path, split: Path) -> dict:
    """`slotfill evaluate --json` on a tokenised split (the literature's way: the gold tokens go in)."""
    command = [sys.executable, "-m", "slotfill.cli", "evaluate", str(model_dir), str(split), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(source), check=True)
    metrics = json.loads(done.stdout)
    return {k: v for k, v in metrics.items() if k not in ("per_slot", "unseen_in_training")}


def evaluate_seed(source: Path, model_dir: Path, sets: dict[str, Gold]) -> dict:
    results = {}
    parses = {
        name: predict(source, model_dir, gold.texts) for name, gold in sets.items() if not name.endswith("cities")
    }
    for name, gold in sets.items():
        if name == "false_positives":
            results[name] = false_positives(gold, parses[name])
        elif name == "taipei":
            right = [p["tags"] == tags for p, tags in zip(parses[name], gold.tags)]
            results[name] = {
                "right": sum(right),
                "of": len(right),
                "parses": [{"text": p["text"], "slots": p["slots"]} for p in parses[name]],
            }
        elif name == "test" and gold.path is not None:
            results[name] = evaluate_tokens(source, model_dir, gold.path)  # as published results are scored
            results["test as typed"] = scores(gold, parses[name])  # the same sentences through the tokeniser
        elif name.endswith("cities"):
            base = name.removesuffix(" cities")
            results[name] = scores(gold, [parses[base][i] for i in CITY_ROWS])
        else:
            results[name] = scores(gold, parses[name])
    return results


CITY_ROWS: list[int] = []  # test sentences that name a city; the same rows in the open-world test


def labelled_sets(atis: Path, openworld: Path) -> dict[str, Gold]:
    test, open_test = Gold.atis(atis / "test"), Gold.atis(openworld / "test")
    CITY_ROWS[:] = [i for i, tags in enumerate(test.tags) if any(t.endswith("city_name") for t in tags)]
    return {
        "test": test,
        "open-world test": open_test,
        "test cities": test.subset(CITY_ROWS),
        "open-world test cities": open_test.subset(CITY_ROWS),
        "taipei": Gold.jsonl(CHECKS / "taipei.jsonl"),
        "false_positives": Gold.jsonl(CHECKS / "false_positives.jsonl"),
    }


def run_spacy_peer(python: str, atis_dir: Path) -> dict:
    """The spaCy peer from ../shared/peers, trained and timed on the same files in this run."""
    script = ROOT.parent / "shared" / "peers" / "spacy_atis.py"
    with tempfile.TemporaryDirectory(prefix="slotfill-spacy-") as work:
        done = subprocess.run([python, str(script), str(atis_dir), work], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the spaCy peer failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def stat(runs: list[dict], where: str, key: str) -> str:
    mean, std = mean_std([100 * run["eval"][where][key] for run in runs])
    return f"{mean:.2f} ± {std:.2f}"


def median(runs: list[dict], key: str, digits: int = 1) -> str:
    return f"{statistics.median(run[key] for run in runs):.{digits}f}"


def tables(runs: list[dict], label: str, spacy: dict | None, dataset: str) -> str:
    header = "| model | set | slot F1 | intent acc. | sentence acc. |\n|---|---|---|---|---|\n"
    rows = [
        f"| {label} | {where} | {stat(runs, where, 'slot_f1')} | {stat(runs, where, 'intent_accuracy')} | {stat(runs, where, 'sentence_accuracy')} |"
        for where in runs[0]["eval"]
        if where not in ("taipei", "false_positives")
    ]
    quality = header + "\n".join(rows) + "\n"
    checks = ""
    if "taipei" in runs[0]["eval"]:
        taipei = sum(run["eval"]["taipei"]["right"] for run in runs)
        traps = runs[0]["eval"]["false_positives"]["trap_words"]
        tagged = [run["eval"]["false_positives"]["tagged_as_slot"] for run in runs]
        checks = f" {taipei} of {5 * len(runs)} | {', '.join(map(str, tagged))} of {traps} per seed |"
    other = (
        "\n| model | train s | peak MiB | parameters | batch sent/s | 1-at-a-time sent/s | latency p50 / p95 ms |"
        + (" Taipei sentences right | trap words tagged |" if checks else "")
        + "\n|---|---|---|---|---|---|---|"
        + ("---|---|" if checks else "")
        + f"\n| {label} | {median(runs, 'train_seconds')} | {median(runs, 'peak_rss_mib')} | {runs[0]['parameters']:,} "
        f"| {median(runs, 'batch_sentences_per_second', 0)} | {median(runs, 'single_sentences_per_second', 0)} "
        f"| {median(runs, 'latency_ms_p50', 2)} / {median(runs, 'latency_ms_p95', 2)} |{checks}\n"
    )
    if "model_dir_bytes" in runs[0]:
        other += (
            "\n| model | s per epoch | model directory MB | cold start s (`slotfill predict MODEL TEXT`) |\n|---|---|---|---|\n"
            f"| {label} | {median(runs, 'seconds_per_epoch', 2)} | {runs[0]['model_dir_bytes'] / 1e6:.1f} "
            f"| {median(runs, 'cold_start_s', 2)} |\n"
        )
    if spacy is not None:
        quality += (
            f"| spaCy NER (`shared/peers/spacy_atis.py`, same run; {spacy['train_s']} s to train, "
            f"{spacy['sent_per_s_b32']:.0f} sent/s at batch 32) | test | {100 * spacy['test_f1']:.2f} | – | – |\n"
        )
    references = REFERENCES if dataset == "atis" else REFERENCES_SNIPS
    published = (
        f"\n| published ({dataset.upper()} test) | slot F1 | intent acc. | sentence acc. |\n|---|---|---|---|\n"
        + "".join(f"| {name} | {slot} | {intent} | {sentence} |\n" for name, slot, intent, sentence in references)
    )
    return quality + other + published


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/atis.yaml")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override KEY=VALUE")
    parser.add_argument("--source", type=Path, default=ROOT, help="the slotfill checkout to train and tag with")
    parser.add_argument(
        "--dataset", choices=("atis", "snips"), default="atis", help="snips: the standard test set only"
    )
    parser.add_argument("--data", type=Path, help="the dataset's directory (default: ../shared/data/DATASET)")
    parser.add_argument("--openworld", type=Path, help="made by scripts/data/make_openworld.py (default: made afresh)")
    parser.add_argument("--label", help="the name of this model in the tables")
    parser.add_argument("--spacy-python", help="python of a venv with spaCy: also run the spaCy peer in this run")
    parser.add_argument("--worker-seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--speed-model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--speed-texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker_seed is not None:
        print(json.dumps(worker(args.config, args.worker_seed, args.overrides, args.worker_dir)))
        return
    if args.speed_model is not None:
        print(json.dumps(speed(args.speed_model, args.speed_texts)))
        return

    source = args.source.resolve()
    config = str(source / args.config)  # the checkout's own config: an earlier version has its own keys
    data_dir = (args.data or ROOT.parent / "shared" / "data" / args.dataset).resolve()
    overrides = [*args.overrides, f"data.dir={data_dir}"]
    label = args.label or f"slotfill `{args.config}`" + (f" ({source.name})" if source != ROOT else "")
    runs = []
    with tempfile.TemporaryDirectory(prefix="slotfill-bench-") as scratch:
        if args.dataset == "atis":
            openworld = args.openworld or Path(scratch) / "openworld"
            if args.openworld is None:
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "scripts" / "data" / "make_openworld.py"),
                        str(data_dir),
                        str(openworld),
                    ],
                    check=True,
                )
            sets = labelled_sets(data_dir, openworld)
        else:
            sets = {"test": Gold.atis(data_dir / "test")}
        texts_file = Path(scratch) / "test.txt"
        texts_file.write_text("".join(t + "\n" for t in sets["test"].texts), encoding="utf-8")
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            run_dir = Path(scratch) / f"seed{seed}"
            command = ["--config", config, "--worker-seed", str(seed), "--worker-dir", str(run_dir)]
            run = child(source, *command, *[item for override in overrides for item in ("--set", override)])
            run.update(child(source, "--speed-model", str(run_dir / "model"), "--speed-texts", str(texts_file)))
            run["seconds_per_epoch"] = round(run["train_seconds"] / run["epochs_run"], 2)
            run["model_dir_bytes"] = sum(p.stat().st_size for p in (run_dir / "model").rglob("*") if p.is_file())
            run["cold_start_s"] = cold_start(source, run_dir / "model")
            run["eval"] = evaluate_seed(source, run_dir / "model", sets)
            scored = "  ".join(
                f"{where} {100 * m['slot_f1']:.2f} / {100 * m['intent_accuracy']:.2f} / {100 * m['sentence_accuracy']:.2f}"
                for where, m in run["eval"].items()
                if where in ("test", "open-world test")
            )
            checks = ""
            if "taipei" in run["eval"]:
                checks = f"  Taipei {run['eval']['taipei']['right']}/5  traps tagged {run['eval']['false_positives']['tagged_as_slot']}"
            print(
                f"seed {seed}: {scored}{checks}  train {run['train_seconds']} s  {run['batch_sentences_per_second']} sent/s",
                flush=True,
            )
            runs.append(run)

    spacy = None
    if args.spacy_python:
        print("training the spaCy peer on the same files ...", flush=True)
        spacy = run_spacy_peer(args.spacy_python, data_dir)
        print(f"spaCy: {json.dumps(spacy)}", flush=True)
    commit = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    summary = {
        "config": args.config,
        "dataset": args.dataset,
        "source": str(source),
        "commit": commit,
        "label": label,
        "spacy": spacy,
        "overrides": args.overrides,
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    markdown = tables(runs, label, spacy, args.dataset)
    (args.out / "results.md").write_text(markdown)
    print()
    print(markdown)
    if "taipei" not in runs[0]["eval"]:
        return
    print("The Taipei sentences:")
    for run in runs:
        for parsed in run["eval"]["taipei"]["parses"]:
            slots = ", ".join(f"{s['text']} = {s['slot']}" for s in parsed["slots"])
            print(f"  seed {run['seed']}: {parsed['text']!r}: {slots}")


if __name__ == "__main__":
    main()
