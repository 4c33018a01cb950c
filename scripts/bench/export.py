"""The exported model against the torch model, measured in one run (docs/deploying.md).

    python scripts/bench/export.py runs/atis/model $(slotfill data path atis)/test --out bench/export

Exports MODEL to float32 and int8 ONNX, then on every sentence of TEST (tokens as given, and as raw
text joined by spaces): parity of tags and intents with torch, the first 200 parses alone against
batched (whole parses, confidences included), slot F1 of each, batch tagging
throughput end to end (raw text in, JSON lines out), one-sentence latency, and the cold start of
`slotfill predict DIR "…"` in a fresh process. Prints and writes results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from slotfill.data.formats import read_split
from slotfill.decoding.tagging import tag_token_lists
from slotfill.evaluation.evaluate import evaluate
from slotfill.export.onnx import export_model
from slotfill.predict import Predictor

SENTENCE = "show me flights from boston to denver on monday morning"
BATCH_CHECK = 200  # test sentences parsed alone as well, against their parse among the others


def throughput(predictors: dict[str, Predictor], texts: list[str], passes: int) -> dict[str, float]:
    """Median sentences/s of raw text in, JSON lines out; the predictors take turns, pass after
    pass, so that a noisy machine slows them alike."""
    rates: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(passes):
        for name, predictor in predictors.items():
            started = time.perf_counter()
            for parsed in predictor.parse_many(texts):
                json.dumps(parsed, ensure_ascii=False)
            rates[name].append(len(texts) / (time.perf_counter() - started))
    return {name: round(statistics.median(r), 1) for name, r in rates.items()}


def latency_ms(predictors: dict[str, Predictor], rounds: int, per_round: int = 20) -> dict[str, float]:
    """Median milliseconds of one `parse` of one sentence, the predictors taking turns."""
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for predictor in predictors.values():
        for _ in range(20):
            predictor.parse(SENTENCE)
    for _ in range(rounds):
        for name, predictor in predictors.items():
            for _ in range(per_round):
                started = time.perf_counter()
                predictor.parse(SENTENCE)
                times[name].append(time.perf_counter() - started)
    return {name: round(1000 * statistics.median(t), 3) for name, t in times.items()}


def cold_start_s(model_dir: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "slotfill.cli", "predict", str(model_dir), SENTENCE],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("test", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/export"))
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    examples = read_split(args.test)
    texts = [" ".join(e.tokens) for e in examples]
    exported = {q: args.out / f"onnx-{q}" for q in ("none", "int8")}
    for quantize, directory in exported.items():
        export_model(args.model_dir, directory, quantize, overwrite=True)
    predictors = {
        "torch": Predictor.load(args.model_dir, "cpu"),
        "onnx float32": Predictor.load(exported["none"], "cpu"),
        "onnx int8": Predictor.load(exported["int8"], "cpu"),
    }
    reference = predictors["torch"]
    tokens = [e.tokens for e in examples]
    results: dict[str, dict] = {}
    torch_tagged = tag_token_lists(reference.decoder, reference.loaded.vocab, tokens, gazetteers=reference.gazetteers)
    torch_parses = list(reference.parse_many(texts))
    rates = throughput(predictors, texts, args.passes)
    latencies = latency_ms(predictors, 30)
    for name, predictor in predictors.items():
        loaded = predictor.loaded
        tagged = tag_token_lists(predictor.decoder, loaded.vocab, tokens, gazetteers=predictor.gazetteers)
        parses = list(predictor.parse_many(texts))
        metrics = evaluate(
            predictor.decoder, loaded.vocab, examples, gazetteers=predictor.gazetteers, temperature=loaded.temperature
        ).metrics
        directory = args.model_dir if name == "torch" else exported["none" if "float32" in name else "int8"]
        results[name] = {
            "sentences": len(examples),
            "same_tags_as_torch": sum(a.tags == b.tags for a, b in zip(tagged, torch_tagged)),
            "same_intent_as_torch": sum(a.intent == b.intent for a, b in zip(tagged, torch_tagged)),
            "same_slots_as_torch": sum(
                [(s["slot"], s["start"], s["end"]) for s in a["slots"]]
                == [(s["slot"], s["start"], s["end"]) for s in b["slots"]]
                for a, b in zip(parses, torch_parses)
            ),
            "max_confidence_difference": max(
                abs(x["confidence"] - y["confidence"])
                for a, b in zip(parses, torch_parses)
                if len(a["slots"]) == len(b["slots"])
                for x, y in zip(a["slots"], b["slots"])
            ),
            # a sentence's whole parse alone against in the test set's batches: the same in every runtime
            "parses_alone_unlike_batched": sum(
                predictor.parse(text) != parsed for text, parsed in zip(texts[:BATCH_CHECK], parses[:BATCH_CHECK])
            ),
            "slot_f1": round(100 * metrics["slot_f1"], 2),
            "intent_accuracy": round(100 * metrics["intent_accuracy"], 2),
            "sentence_accuracy": round(100 * metrics["sentence_accuracy"], 2),
            "sent_per_s": rates[name],
            "latency_p50_ms": latencies[name],
            "cold_predict_s": cold_start_s(directory, args.passes),
            "model_bytes": sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file()),
        }
        print(name, json.dumps(results[name]), flush=True)
    base = results["torch"]["sent_per_s"]
    for name in results:
        results[name]["speed_vs_torch"] = round(results[name]["sent_per_s"] / base, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
