#!/usr/bin/env python3
"""Tagging speed against the hardware's ceiling, in one run (docs/speed.md):

    python scripts/bench/speed.py runs/atis $(slotfill data path atis)/test --out bench/speed

On TEST's sentences repeated `--copies` times (ATIS test x 20: 17,860 lines), for the torch model
and its ONNX export, on 1 and 2 threads:
- the ceiling: a bare bidirectional nn.LSTM of the model's sizes over the same batches (256
  sentences of the lengths slotfill's own batches have), random inputs, inference mode;
- end to end: the whole command, `slotfill predict MODEL --input FILE > /dev/null`;
- in process: `Predictor.parse_many` with each parse turned into a JSON line, and the tagging
  alone (tokens in, tags out) with and without slot confidences;
- one sentence: `Predictor.parse` latency, median;
- cold starts: `python -c "import torch"`, `slotfill --help`, `slotfill predict MODEL "..."`.
Ratios are to the ceiling on the same number of threads. Run it alone: a second busy process on
two cores slows everything 2-10x, and not alike. Prints a markdown table; writes OUT/results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from cli import timed  # scripts/bench/cli.py: the CLI's wall times, fresh processes
from export import SENTENCE, latency_ms  # scripts/bench/export.py: one-sentence latency, median

from slotfill.data.formats import read_split
from slotfill.decoding.tagging import tag_token_lists
from slotfill.decoding.types import Decoding
from slotfill.export.onnx import export_model
from slotfill.features.arrays import batches_by_length
from slotfill.predict import Predictor
from slotfill.text.tokenise import is_punctuation, tokenise

THREADS = (1, 2)
BATCH = 256


def best_of(function, passes: int) -> float:  # noqa: ANN001
    """Median seconds of `passes` calls (after one warm-up)."""
    function()
    seconds = []
    for _ in range(passes):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def lstm_ceiling(predictor: Predictor, texts: list[str], threads: int, passes: int) -> float:
    """Sentences/s of a bare bidirectional LSTM of the model's sizes over slotfill's batches."""
    tagger = predictor.loaded.tagger
    fused = tagger.encoder.fused
    lstm = torch.nn.LSTM(fused.input_size, fused.hidden_size, bidirectional=True, batch_first=True).eval()
    lengths = [sum(not is_punctuation(t.text) for t in tokenise(text)) or 1 for text in texts]
    batches = [
        torch.randn(len(rows), max(lengths[i] for i in rows), fused.input_size)
        for rows in batches_by_length(lengths, BATCH)
    ]  # (B, L, D) each

    def run() -> None:
        with torch.inference_mode():
            for batch in batches:
                lstm(batch)

    torch.set_num_threads(threads)
    return len(texts) / best_of(run, passes)


def in_process(predictor: Predictor, texts: list[str], passes: int) -> dict[str, float]:
    """Sentences/s of raw text to JSON lines, and of the tagging alone with and without confidences."""

    def whole() -> None:
        for parsed in predictor.parse_many(texts):
            json.dumps(parsed, ensure_ascii=False)

    tokens = [[t.norm for t in tokenise(text)] for text in texts]

    def tagging(confidences: bool) -> None:
        decoding = Decoding(predictor.loaded.temperature, confidences=confidences)
        tag_token_lists(
            predictor.decoder, predictor.loaded.vocab, tokens, BATCH, gazetteers=predictor.gazetteers, decoding=decoding
        )

    return {
        "in_process": len(texts) / best_of(whole, passes),
        "tagging": len(texts) / best_of(lambda: tagging(True), passes),
        "tagging_without_confidences": len(texts) / best_of(lambda: tagging(False), passes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("test", type=Path, help="a labelled split (its sentences are what is tagged)")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/speed"))
    args = parser.parse_args()
    texts = [" ".join(e.tokens) for e in read_split(args.test)] * args.copies
    slotfill = str(Path(sys.executable).with_name("slotfill"))
    args.out.mkdir(parents=True, exist_ok=True)
    exported = args.out / "onnx"
    export_model(args.model_dir, exported, overwrite=True)
    models = {"torch": args.model_dir, "exported": exported}
    results: dict = {"sentences": len(texts), "runs": {}}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as lines:
        lines.write("\n".join(texts) + "\n")
        lines.flush()
        for threads in THREADS:
            torch_predictor = Predictor.load(args.model_dir, "cpu", threads=threads)
            ceiling = lstm_ceiling(torch_predictor, texts, threads, args.passes)
            torch.set_num_threads(max(THREADS))
            for name, directory in models.items():
                predictor = torch_predictor if name == "torch" else Predictor.load(directory, "cpu", threads=threads)
                command = [slotfill, "predict", str(directory), "--input", lines.name, "--threads", str(threads)]
                row = {"ceiling": ceiling, "end_to_end": len(texts) / statistics.median(timed(command, args.passes))}
                row |= in_process(predictor, texts, args.passes)
                row["latency_ms_p50"] = latency_ms({name: predictor}, rounds=15)[name]
                row = {key: round(value, 3 if key.startswith("latency") else 1) for key, value in row.items()}
                for key in ("end_to_end", "in_process", "tagging"):
                    row[f"{key}_ratio"] = round(row[key] / ceiling, 2)
                results["runs"][f"{name}, {threads} thread{'s' if threads > 1 else ''}"] = row
                print(json.dumps({f"{name}/{threads}": row}), flush=True)
    sentence = [SENTENCE]
    results["cold_s"] = {
        "python -c 'import torch'": statistics.median(timed([sys.executable, "-c", "import torch"], 5)),
        "slotfill --help": statistics.median(timed([slotfill, "--help"], 5)),
        **{
            f"slotfill predict ({name})": statistics.median(timed([slotfill, "predict", str(d), *sentence], 5))
            for name, d in models.items()
        },
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


def table(results: dict) -> str:
    columns = ["ceiling", "end_to_end", "end_to_end_ratio", "in_process", "in_process_ratio", "tagging",
               "tagging_without_confidences", "latency_ms_p50"]  # fmt: skip
    lines = [
        f"{results['sentences']:,} sentences; sentences/s (ratio to the bare LSTM on as many threads); latency in ms",
        "",
        "| model, threads | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, row in results["runs"].items():
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
    lines += ["", "| cold start | seconds |", "|---|---|"]
    lines += [f"| `{name}` | {seconds} |" for name, seconds in results["cold_s"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
