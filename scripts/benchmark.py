#!/usr/bin/env python3
"""Benchmark slotfill on ATIS: train CONFIG with N seeds, evaluate each on test, time tagging.

    python scripts/benchmark.py [--config configs/atis.yaml] [--seeds 3] [--out bench]

Each seed trains and evaluates on the test split in a child process of its own (so peak memory is
that run's alone); a fresh child then loads the saved model, as a user would, and times batch tagging
of the test sentences (raw text in, JSON-ready dicts out, CRF decoding included) and
one-sentence-at-a-time latency. Writes OUT/results.json and
OUT/results.md (with the published reference rows), and prints the ATIS model's parse of the two
Taipei examples. Medians are over repeated passes in the same run.
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

TAIPEI = ["arrive Taipei on November 2nd", "leave Taipei on November 2nd"]
# published ATIS test results: slot F1, intent accuracy, sentence accuracy (None: not reported)
REFERENCES = [
    ("Joint BiLSTM (Hakkani-Tür et al. 2016), rerun", 94.2, 92.6, 80.7),
    ("Slot-Gated (Goo et al. 2018)", 94.8, 93.6, 82.2),
    ("Stack-Propagation (Qin et al. 2019), rerun", 95.4, 96.9, 85.9),
    ("JointBERT (pretrained BERT), reruns", 95.7, 97.9, 88.4),
]
EARLIER = [("spaCy 3.8 NER, same files, this machine (`shared/peers` README, an earlier run)", 93.8, None, None)]


def worker(config: str, seed: int, overrides: list[str], run_dir: Path) -> dict:
    """Train and evaluate one seed; peak memory is this process's (training)."""
    from slotfill.config import load_config
    from slotfill.train import train

    config_ = load_config(config, [*overrides, f"seed={seed}", "device=cpu"])
    result = train(config_, run_dir)
    assert result.test is not None, "the config needs a test split"
    return {
        "seed": seed,
        "test": {k: v for k, v in result.test.items() if k not in ("per_slot", "unseen_in_training")},
        "dev": result.dev,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def speed(model_dir: Path, test_dir: Path) -> dict:
    """Tagging speed of a saved model in a fresh process, as a user loads it: batch throughput
    (median of 7 passes over the test sentences, raw text in, parses out) and one-sentence latency."""
    import torch

    from slotfill.data import read_split
    from slotfill.predict import Predictor

    predictor = Predictor.load(model_dir, "cpu", batch_size=256)
    texts = [" ".join(example.tokens) for example in read_split(test_dir)]
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
        "taipei": [{"text": p["text"], "slots": p["slots"], "intent": p.get("intent")} for p in predictor.parse_many(TAIPEI)],
        "torch_threads": torch.get_num_threads(),
    }


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def run_spacy_peer(python: str, atis_dir: Path) -> dict:
    """The spaCy peer from ../shared/peers, trained and timed on the same files in this run."""
    script = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "spacy_atis.py"
    with tempfile.TemporaryDirectory(prefix="slotfill-spacy-") as work:
        done = subprocess.run([python, str(script), str(atis_dir), work], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the spaCy peer failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(runs: list[dict], config: str, spacy: dict | None = None) -> str:
    def stat(key: str) -> str:
        mean, std = mean_std([100 * run["test"][key] for run in runs])
        return f"{mean:.2f} ± {std:.2f}"

    def median(key: str, digits: int = 1) -> str:
        return f"{statistics.median(run[key] for run in runs):.{digits}f}"

    lines = [
        "| model | slot F1 | intent acc. | sentence acc. | train s | peak MiB | parameters | batch sent/s | 1-at-a-time sent/s | latency p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| **slotfill** `{config}` ({len(runs)} seeds, mean ± std; medians) | **{stat('slot_f1')}** | **{stat('intent_accuracy')}** "
        f"| **{stat('sentence_accuracy')}** | {median('train_seconds')} | {median('peak_rss_mib')} | {runs[0]['parameters']:,} "
        f"| {median('batch_sentences_per_second', 0)} | {median('single_sentences_per_second', 0)} "
        f"| {median('latency_ms_p50', 2)} / {median('latency_ms_p95', 2)} |",
    ]
    if spacy is not None:
        lines.append(
            f"| spaCy NER (`shared/peers/spacy_atis.py`, same machine, same run) | {100 * spacy['test_f1']:.2f} | – | – "
            f"| {spacy['train_s']} | | | {spacy['sent_per_s_b32']:.0f} (batch 32) | {spacy['sent_per_s_b1']:.0f} | |"
        )
    for name, slot, intent, sentence in [(f"{n} (published)", *v) for n, *v in REFERENCES] + EARLIER:
        cells = [f"{v:.1f}" if v is not None else "–" for v in (slot, intent, sentence)]
        lines.append(f"| {name} | {' | '.join(cells)} | | | | | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/atis.yaml")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override KEY=VALUE")
    parser.add_argument("--spacy-python", help="python of a venv with spaCy: also run the spaCy peer in this run")
    parser.add_argument("--worker-seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--speed-model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--speed-test", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker_seed is not None:
        print(json.dumps(worker(args.config, args.worker_seed, args.overrides, args.worker_dir)))
        return
    if args.speed_model is not None:
        print(json.dumps(speed(args.speed_model, args.speed_test)))
        return

    from slotfill.config import load_config

    data = load_config(args.config, args.overrides).data
    test_dir = data.split_path(data.test or "test")

    runs = []
    with tempfile.TemporaryDirectory(prefix="slotfill-bench-") as scratch:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            run_dir = Path(scratch) / f"seed{seed}"
            command = ["--config", args.config, "--worker-seed", str(seed), "--worker-dir", str(run_dir)]
            run = child(*command, *[item for override in args.overrides for item in ("--set", override)])
            run.update(child("--speed-model", str(run_dir / "model"), "--speed-test", str(test_dir)))
            test = run["test"]
            print(f"seed {seed}: slot F1 {100 * test['slot_f1']:.2f}  intent {100 * test['intent_accuracy']:.2f}  "
                  f"sentence {100 * test['sentence_accuracy']:.2f}  train {run['train_seconds']} s  "
                  f"{run['batch_sentences_per_second']} sent/s  p50 {run['latency_ms_p50']} ms", flush=True)
            runs.append(run)

    spacy = None
    if args.spacy_python:
        print("training the spaCy peer on the same files ...", flush=True)
        spacy = run_spacy_peer(args.spacy_python, data.dir)
        print(f"spaCy: {json.dumps(spacy)}", flush=True)

    summary = {
        "config": args.config,
        "spacy": spacy,
        "overrides": args.overrides,
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    markdown = table(runs, args.config, spacy)
    (args.out / "results.md").write_text(markdown)
    print()
    print(markdown)
    print("The ATIS models on the Taipei examples:")
    for run in runs:
        for parsed in run["taipei"]:
            slots = ", ".join(f"{s['text']} = {s['slot']}" for s in parsed["slots"])
            print(f"  seed {run['seed']}: {parsed['text']!r}: {slots}  [{parsed['intent']}]")


if __name__ == "__main__":
    main()
