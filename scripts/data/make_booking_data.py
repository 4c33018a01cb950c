#!/usr/bin/env python3
"""Generate data/booking: restaurant-booking turns of a dialogue, deterministically, in PolyAI's
span-extraction format (docs/dialogue-context.md). Each turn may answer what the system just asked
(`context.requestedSlots`): after "for how many people?" a bare "13" is the party size, after "what
time?" it is the time, and only the context tells them apart. Slots: people, time, date, first_name; the last wording of each
kind occurs only in test.
Run: python scripts/data/make_booking_data.py [OUT_DIR]  (default data/booking)
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 2026
SIZES = {"train": 800, "test": 200}
NAMES = "anna ben carla david emma farid grace hiro ines jonas kemal lena maria nils olga pablo rosa sami".split()
DATES = ["today", "tomorrow", "friday", "on saturday", "next monday", "december 24th", "the 13th", "sunday evening"]
HOURS = [str(h) for h in range(1, 13)]
COUNTS = [str(n) for n in range(1, 21)] + ["two", "four", "six"]
ANSWERS = {  # what people type when asked for one slot: a template and where its value goes
    "people": ["{v}", "{v} people", "for {v}", "we are {v}", "a table for {v} please", "{v} of us"],
    "time": ["{v}", "at {v}", "{v} pm", "around {v} pm", "{v} o'clock", "at {v} please"],
    "date": ["{v}", "{v} please", "how about {v}", "{v} would be great"],
    "first_name": ["{v}", "it's {v}", "my name is {v}", "under {v}"],
}
OPENERS = [  # turns that volunteer slots unasked: (template, the slots in their order)
    ("i'd like a table for {people} {date} at {time} pm", ("people", "date", "time")),
    ("book a table for {people} at {time}", ("people", "time")),
    ("can we get a table {date} for {people}", ("date", "people")),
    ("a reservation for {people} people under {first_name}", ("people", "first_name")),
    ("hi , i want to book a table", ()),
    ("do you have anything free {date} ?", ("date",)),
]


VALUES = {"people": COUNTS, "time": HOURS, "date": DATES, "first_name": NAMES}


def value(slot: str, rng: random.Random) -> str:
    return rng.choice(VALUES[slot])


def turn(text: str, values: list[tuple[str, str]], requested: list[str]) -> dict:
    """One turn in PolyAI's format, each (slot, value) annotated where it first occurs after the last."""
    labels, at = [], 0
    for slot, found in values:
        start = text.index(found, at)
        labels.append({"slot": slot, "valueSpan": {"startIndex": start, "endIndex": start + len(found)}})
        at = start + len(found)
    record: dict = {"userInput": {"text": text}}
    if requested:
        record["context"] = {"requestedSlots": requested}
    if labels:
        record["labels"] = labels
    return record


def answer(rng: random.Random, held_out: bool) -> dict:
    """An answer to a requested slot; the last wording of each slot only where `held_out` (test)."""
    slot = rng.choice(list(ANSWERS))
    found = value(slot, rng)
    wordings = ANSWERS[slot] if held_out else ANSWERS[slot][:-1]
    return turn(rng.choice(wordings).format(v=found), [(slot, found)], [slot])


def opener(rng: random.Random, held_out: bool) -> dict:
    template, slots = rng.choice(OPENERS if held_out else OPENERS[:-1])
    values = {slot: value(slot, rng) for slot in slots}
    text = template.format(**values)
    return turn(text, [(slot, values[slot]) for slot in slots], [])


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "data" / "booking"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    for split, size in SIZES.items():
        held_out = split == "test"
        turns = [answer(rng, held_out) if rng.random() < 0.6 else opener(rng, held_out) for _ in range(size)]
        (out / f"{split}.json").write_text(json.dumps(turns, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
