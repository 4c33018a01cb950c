"""Does a sentence parse the same alone and in any batch? Counts the differing whole parses (with
3 alternatives) between each sentence parsed alone and `parse_many` at batch sizes 7, 64 and 256,
with 1 and 2 threads, for a model directory or an exported one.

    python scripts/bench/batch_invariance.py runs/atis $(slotfill data path atis)/test
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from slotfill.predict import Predictor


def set_threads(count: int) -> None:
    try:
        import torch
    except ImportError:  # an exported model under the runtime install: onnxruntime keeps its threads
        return
    torch.set_num_threads(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("split", type=Path, help="a split directory with seq.in, or a text file")
    args = parser.parse_args()
    source = args.split / "seq.in" if args.split.is_dir() else args.split
    texts = source.read_text(encoding="utf-8").splitlines()
    predictor = Predictor.load(args.model, "cpu")
    set_threads(1)
    alone = [predictor.parse(text, alternatives=3) for text in texts]
    rows = []
    for threads in (1, 2):
        set_threads(threads)
        for batch_size in (7, 64, 256):
            predictor.batch_size = batch_size
            many = list(predictor.parse_many(texts, alternatives=3))
            differing = sum(a != b for a, b in zip(alone, many))
            tags = sum(a["tags"] != b["tags"] for a, b in zip(alone, many))
            rows.append(
                {"threads": threads, "batch_size": batch_size, "differing_parses": differing, "differing_tags": tags}
            )
    total = sum(r["differing_parses"] for r in rows)
    print(json.dumps({"model": str(args.model), "sentences": len(texts), "runs": rows, "differing": total}))


if __name__ == "__main__":
    main()
