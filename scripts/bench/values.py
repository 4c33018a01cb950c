#!/usr/bin/env python3
"""Slot values, measured (docs/values.md):

    python scripts/bench/values.py runs/atis $(slotfill data path atis)/test --out bench/values

1. The expression table (tests/values/expressions.tsv, its reference time): the share of rows
   each way of reading them gets exactly right, per expected kind, and the median microseconds a
   call: slotfill's resolvers (fast paths, then dateparser), the fast paths alone, dateparser
   alone (its date for a day, its datetime for a time: it has no ranges or clock times of its
   own), and for the number rows text2num alone.
2. The cost in tagging: `Predictor.parse_many` over TEST repeated `--copies` times, with values
   and without (`values=False`), alternating, median of `--passes`, in one run.
3. The README's examples, parsed by MODEL at the table's reference time.
4. Values as people type them (tests/values/typed.tsv, its own reference time): the share right;
   `--typed-only` prints it alone, and with PYTHONPATH at an older checkout gives that release's share.
Run it alone: a second busy process on two cores slows everything, and not alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "values"))

from test_expressions import NOW, rows  # noqa: E402  (the table and its reference time)

from slotfill.data.formats import read_split  # noqa: E402
from slotfill.predict import Predictor  # noqa: E402
from slotfill.values import temporal  # noqa: E402
from slotfill.values.resolve import ValueResolver  # noqa: E402

EXAMPLES = [
    "arrive Taipei on November 2nd",
    "show me flights from boston to denver tomorrow morning before 10 am",
    "i want to fly from portland oregon to dallas on the twenty seventh of august",
    "flights between 5 and 7 pm from milwaukee to o'hare",
    "what is the cheapest fare under 300 dollars on next monday",
    "list flights from new york to miami arriving after 6 in the evening",
]
TEMPORAL = ("date", "time", "datetime")


def slotfill_reader(name: str, text: str) -> dict | None:
    return ValueResolver({}).value(name, text, NOW)


def fast_paths_only(name: str, text: str) -> dict | None:
    original = temporal._dateparser
    temporal._dateparser = lambda *args, **kwargs: None  # noqa: ARG005
    try:
        return ValueResolver({}).value(name, text, NOW)
    finally:
        temporal._dateparser = original


def dateparser_alone(name: str, text: str) -> dict | None:
    return temporal._dateparser(text, temporal._words(text)[0], NOW, dates_only=name == "date")


def text2num_alone(name: str, text: str) -> dict | None:
    from text_to_num import text2num

    try:
        return {"kind": "number", "number": text2num(text, "en")}
    except ValueError:
        return None


READERS = {
    "slotfill": (slotfill_reader, None),
    "fast paths alone": (fast_paths_only, TEMPORAL),
    "dateparser alone": (dateparser_alone, TEMPORAL),
    "text2num alone": (text2num_alone, ("number",)),
}


def score_table() -> dict[str, Any]:
    """Per reader: rows right / rows, per expected kind ("none" for rows that must not resolve)."""
    table = rows()
    results: dict[str, Any] = {}
    for reader, (function, resolvers) in READERS.items():
        right: dict[str, list[bool]] = defaultdict(list)
        micros = []
        for name, text, expected in table:
            if resolvers is not None and name not in resolvers:
                continue
            started = time.perf_counter()
            found = function(name, text)
            micros.append((time.perf_counter() - started) * 1e6)
            right[expected["kind"] if expected else "none"].append(found == expected)
        every = [ok for oks in right.values() for ok in oks]
        results[reader] = {
            "rows": len(every),
            "right": sum(every),
            "median_us": round(statistics.median(micros), 1),
            "by_kind": {kind: f"{sum(oks)}/{len(oks)}" for kind, oks in sorted(right.items())},
        }
    return results


def throughput(predictor: Predictor, texts: list[str], passes: int) -> dict[str, float]:
    def run(values: bool) -> float:
        started = time.perf_counter()
        for _ in predictor.parse_many(texts, values=values, now=NOW):
            pass
        return time.perf_counter() - started

    run(True)  # warm-up: the caches of tokens and values fill here, as in any long stream
    seconds: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(passes):
        for values in (False, True):
            seconds[values].append(run(values))
    with_values, without = statistics.median(seconds[True]), statistics.median(seconds[False])
    return {
        "sentences": len(texts),
        "without_values_per_s": round(len(texts) / without, 1),
        "with_values_per_s": round(len(texts) / with_values, 1),
        "ratio": round(without / with_values, 3),
    }


TYPED = ROOT / "tests" / "values" / "typed.tsv"
TYPED_NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # a Monday, as in tests/values/test_typed.py


def typed_table() -> dict[str, Any]:
    """Values as typed (tests/values/typed.tsv): the share of rows the importable slotfill gets exactly
    right, per resolver. Run with PYTHONPATH set to an older checkout for its "before" (options an
    older slotfill does not know are dropped: its reading without them is what it gives)."""
    from slotfill.errors import ConfigError

    right: dict[str, list[bool]] = defaultdict(list)
    for line in TYPED.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, text, options, expected = line.split("\t")
        rules = {"date_order": "dmy", **({} if options == "-" else json.loads(options))}
        try:
            resolver = ValueResolver(rules)
        except ConfigError:
            resolver = ValueResolver({})
        found = resolver.value(name, text, TYPED_NOW)
        right[name].append(found == (None if expected == "-" else json.loads(expected)))
    every = [r for rows in right.values() for r in rows]
    return {
        "right": sum(every), "rows": len(every),
        "by_resolver": {name: f"{sum(rows)}/{len(rows)}" for name, rows in right.items()},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, nargs="?")
    parser.add_argument(
        "test", type=Path, nargs="?", help="a split directory (seq.in/seq.out) whose sentences are tagged"
    )
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--typed-only", action="store_true", help="only the table of values as typed (part 4)")
    args = parser.parse_args()

    typed = typed_table()
    print(f"values as typed (tests/values/typed.tsv): {typed['right']}/{typed['rows']} right; {typed['by_resolver']}")
    if args.typed_only:
        return

    table = score_table()
    print("| reader | rows right | median µs a call | per expected kind |\n|---|---|---|---|")
    for reader, result in table.items():
        kinds = ", ".join(f"{k} {v}" for k, v in result["by_kind"].items())
        print(f"| {reader} | {result['right']}/{result['rows']} | {result['median_us']} | {kinds} |")

    predictor = Predictor.load(args.model, "cpu")
    texts = [" ".join(example.tokens) for example in read_split(args.test)] * args.copies
    cost = throughput(predictor, texts, args.passes)
    print(
        f"\n{cost['sentences']:,} sentences: {cost['without_values_per_s']:,} /s without values, "
        f"{cost['with_values_per_s']:,} /s with them: {cost['ratio']}x"
    )
    examples = [predictor.parse(text, now=NOW) for text in EXAMPLES]
    for parsed in examples:
        print(f"\n{parsed['text']}\n  frame: {json.dumps(parsed['frame'], ensure_ascii=False)}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        results = {"now": NOW.isoformat(), "table": table, "typed": typed, "throughput": cost, "examples": examples}
        (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
