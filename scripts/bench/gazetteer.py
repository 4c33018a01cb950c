"""How long a large gazetteer takes to load, and how much memory: `--gazetteer city=FILE` on a list
of a million lines, read and merged into a model's list (GazetteerUpdate, GazetteerSet.updated),
each run in a fresh process (wall seconds and peak resident memory, as `/usr/bin/time -v` reports).

Two generated lists (seeded, written to a temporary folder): `places`, names as real lists have
them (mostly plain words, some with aliases, a tenth with accents), and `punctuated`, a harder
one where a quarter of the forms carry periods, hyphens or accents ("St. X", "Y-sur-Mer").

    python scripts/bench/gazetteer.py --lines 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYLLABLES = (
    "ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru "
    "sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu"
).split()
SHAPES = {  # prefixes, suffixes, share with an alias, share with accents
    "places": (["", "", "", "", "", "", "San ", "New ", "Port "], ["", "", "", "", "", " City", " Falls"], 0.05, 0.1),
    "punctuated": (
        ["", "", "", "", "San ", "St. ", "New ", "Port ", "Mount ", "Le "],
        ["", "", "", "", " City", " Falls", " Beach", "-sur-Mer", " Springs", "ville"],
        0.3,
        0.1,
    ),
}
ACCENTS = str.maketrans("aeiou", "áéíóú")
LOAD = """
import sys, time
from slotfill.features.gazetteer import Gazetteer, GazetteerSet, GazetteerUpdate
start = time.perf_counter()
update = GazetteerUpdate.from_spec("city=" + sys.argv[1])
read = time.perf_counter()
lists = GazetteerSet([Gazetteer("city", (("Boston",), ("New York", "NYC")))]).updated([update])
assert lists.features(["to", "new", "york"]) == [0, 1, 2]
print(read - start, time.perf_counter() - read, sum(len(e) for e in lists["city"].entries))
"""


def write_list(path: Path, lines: int, shape: str, seed: int = 0) -> None:
    prefixes, suffixes, aliases, accents = SHAPES[shape]
    generator = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(lines):
            name = "".join(generator.choice(SYLLABLES) for _ in range(generator.randint(2, 4))).capitalize()
            if generator.random() < accents:
                name = name.translate(ACCENTS)
            name = generator.choice(prefixes) + name + generator.choice(suffixes)
            if generator.random() < aliases:
                name += " | " + "".join(generator.choice(SYLLABLES) for _ in range(3)).upper()
            out.write(name + "\n")


def load_once(path: Path) -> dict[str, float]:
    """One load in a fresh process under /usr/bin/time: wall seconds, its read and merge parts,
    peak resident MB (`%M`, what `/usr/bin/time -v` calls the maximum resident set size)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", LOAD, str(path)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    read, merge, forms = (float(x) for x in done.stdout.split())
    return {
        "wall_s": wall,
        "read_s": read,
        "merge_s": merge,
        "peak_mb": int(done.stderr.split()[-1]) / 1024,
        "forms": forms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for shape in SHAPES:
            path = Path(folder) / f"{shape}.txt"
            write_list(path, args.lines, shape)
            runs = [load_once(path) for _ in range(args.runs)]
            results[shape] = {
                key: round(statistics.median(run[key] for run in runs), 2)
                for key in ("wall_s", "read_s", "merge_s", "peak_mb")
            }
            results[shape].update(forms=int(runs[0]["forms"]), file_mb=round(path.stat().st_size / 1e6, 1))
    print(json.dumps({"lines": args.lines, "runs": args.runs, "median": results}, indent=1))


if __name__ == "__main__":
    main()
