#!/usr/bin/env python3
"""Generate data/smarthome: a small smart-home dataset in the raw-text-with-spans format, deterministically.

The example domain of the README's walkthrough (docs/new-domain.md): 300 / 60 / 60 utterances, 6
intents (turn_on, turn_off, set_temperature, play_music, set_level, and out_of_domain for what the
assistant does not do), 7 slot types (device, room, time, temperature, genre, artist, level).
Written as people type (some capitals, some trailing punctuation), with a quarter of every slot's
values kept out of train, so dev and test measure unseen words. Also ood.txt: out-of-domain
utterances unlike the training ones, for measuring --min-intent-confidence.
Run: python scripts/data/make_smarthome_data.py [OUT_DIR]  (default data/smarthome)
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

SEED = 7
SIZES = {"train": 300, "dev": 60, "test": 60}

VALUES = {
    "room": "kitchen|living room|bedroom|bathroom|study|hallway|garage|dining room|guest room|basement|attic|nursery|office|laundry room|patio|porch",
    "device": "lights|lamp|fan|heater|tv|air conditioner|coffee machine|speaker|dishwasher|radiator|ceiling light|desk lamp|humidifier|kettle|floor lamp|fairy lights",
    "time": "7 am|6:30 pm|noon|midnight|8 o'clock|10 pm|tonight|in ten minutes|sunrise|5:45 am|half past nine|9 pm",
    "temperature": "21 degrees|68 degrees|19 degrees celsius|72 fahrenheit|22.5 degrees|20 degrees|75 degrees|18 degrees",
    "genre": "jazz|lo-fi|hip-hop|classical|rock|k-pop|drum and bass|blues|r&b|ambient|country|reggae|techno|folk",
    "artist": "miles davis|taylor swift|daft punk|nina simone|beyoncé|radiohead|bts|bob marley|norah jones|the beatles|björk|adele",
    "level": "25%|50 percent|half|maximum|10%|low|80%|three|full|minimum|40 percent|75%",
}
TEMPLATES = {
    "turn_on": [
        "turn on the {room} {device}",
        "switch on the {device} in the {room}",
        "can you turn the {device} on",
        "turn on the {device} at {time}",
        "please switch the {room} {device} on",
        "i want the {device} on in the {room}",
    ],
    "turn_off": [
        "turn off the {room} {device}",
        "switch off the {device} in the {room}",
        "shut the {device} off at {time}",
        "kill the {device}",
        "please turn the {room} {device} off",
        "no more {device} in the {room}",
    ],
    "set_temperature": [
        "set the {room} to {temperature}",
        "make it {temperature} in the {room}",
        "heat the {room} to {temperature} at {time}",
        "set the thermostat to {temperature}",
        "i'd like {temperature} in the {room} by {time}",
    ],
    "play_music": [
        "play some {genre} in the {room}",
        "play {artist}",
        "put on some {genre} by {artist}",
        "play {genre} at {time}",
        "i want to hear {artist} in the {room}",
        "play some {genre}",
    ],
    "set_level": [
        "dim the {room} lights to {level}",
        "set the {device} to {level}",
        "turn the volume to {level} in the {room}",
        "{device} at {level} please",
        "set the {room} {device} brightness to {level}",
    ],
    "out_of_domain": [
        "tell me a joke",
        "what's the weather like tomorrow",
        "who won the game last night",
        "what is the capital of france",
        "how are you today",
        "order a pizza",
        "set up a meeting with anna",
        "how tall is mount everest",
        "what's the news",
        "call my sister",
    ],
}
OOD_HELD = [  # dev and test's out-of-domain sentences: none is in train
    "what's the traffic like",
    "tell me something funny",
    "how do you say thanks in french",
    "who is the president",
    "book a taxi",
    "what day is it",
]
INTENT_WEIGHTS = {"out_of_domain": 0.6}  # the others 1: fewer out-of-domain sentences, as in real logs
OOD_TEST = """book a flight to paris
what time is it in tokyo
remind me to call mom at noon
what's twelve times seven
translate good morning into spanish
who wrote pride and prejudice
how do i bake bread
is it going to rain on saturday
send a message to john
what's my schedule for today
find a restaurant nearby
how far is the moon
give me a recipe for pancakes
what is the meaning of life
turn left at the next corner
play chess with me
order new batteries
how old is the queen
spell necessary
when does the bank open""".splitlines()


def split_values(rng: random.Random) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per slot: the values of train, and those of dev and test (a quarter held out, the rest shared)."""
    seen, all_values = {}, {}
    for slot, values in VALUES.items():
        values = values.split("|")
        held = set(rng.sample(values, max(1, len(values) // 4)))
        seen[slot] = [v for v in values if v not in held]
        all_values[slot] = values
    return seen, all_values


def utterance(rng: random.Random, intent: str, values: dict[str, list[str]], held_out: bool) -> dict:
    template = rng.choice(OOD_HELD if held_out and intent == "out_of_domain" else TEMPLATES[intent])
    text, slots, position = "", [], 0
    for match in re.finditer(r"\{(\w+)\}", template):
        text += template[position : match.start()]
        value = rng.choice(values[match.group(1)])
        slots.append({"start": len(text), "end": len(text) + len(value), "slot": match.group(1)})
        text += value
        position = match.end()
    text += template[position:]
    if rng.random() < 0.3:  # as people type
        text = text[0].upper() + text[1:]
    if rng.random() < 0.25:
        text += rng.choice(["?", ".", "!", " please", ", thanks"])
    return {"text": text, "intent": intent, "slots": slots}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/smarthome")
    rng = random.Random(SEED)
    seen, all_values = split_values(rng)
    intents = list(TEMPLATES)
    weights = [INTENT_WEIGHTS.get(i, 1.0) for i in intents]
    out.mkdir(parents=True, exist_ok=True)
    in_train: set[str] = set()
    for split, size in SIZES.items():
        values = seen if split == "train" else all_values
        records: list[dict] = []
        while len(records) < size:
            record = utterance(rng, rng.choices(intents, weights)[0], values, split != "train")
            if split != "train" and record["text"] in in_train:
                continue  # dev and test measure sentences train does not have
            records.append(record)
        if split == "train":
            in_train = {r["text"] for r in records}
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out / "ood.txt").write_text("\n".join(OOD_TEST) + "\n", encoding="utf-8")
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in SIZES.items()) + f", ood {len(OOD_TEST)}")


if __name__ == "__main__":
    main()
