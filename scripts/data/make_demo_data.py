#!/usr/bin/env python3
"""Generate data/demo: a small ATIS-style slot-filling dataset, deterministically.

Utterances about flights, fares, airlines and ground transport between world cities, with ATIS's
slot names (toloc.city_name, depart_date.day_number, ...) and intents (atis_flight, ...), written
in the ATIS directory format: <split>/seq.in, <split>/seq.out, <split>/label.
A tenth of the cities appear only in dev and test, so those splits measure generalisation to
unseen words. Run: python scripts/data/make_demo_data.py [OUT_DIR]  (default data/demo)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SEED = 2024
SIZES = {"train": 2400, "dev": 300, "test": 300}

CITIES = """taipei tokyo osaka seoul busan beijing shanghai hong kong singapore bangkok manila jakarta
kuala lumpur hanoi delhi mumbai dubai doha istanbul cairo nairobi lagos johannesburg cape town casablanca
london paris berlin madrid barcelona rome milan vienna prague warsaw budapest amsterdam brussels zurich
geneva lisbon dublin oslo stockholm copenhagen helsinki athens moscow kyiv new york boston chicago
denver dallas houston atlanta miami seattle san francisco los angeles las vegas phoenix toronto
montreal vancouver mexico city bogota lima santiago buenos aires sao paulo rio de janeiro sydney
melbourne auckland perth honolulu anchorage baltimore philadelphia pittsburgh detroit minneapolis
st. louis salt lake city kansas city nashville orlando tampa charlotte washington oakland portland""".split("\n")
# multiword cities are written with underscores below, then split into tokens
MULTIWORD = [
    "hong kong",
    "kuala lumpur",
    "cape town",
    "new york",
    "san francisco",
    "los angeles",
    "las vegas",
    "mexico city",
    "buenos aires",
    "sao paulo",
    "rio de janeiro",
    "st. louis",
    "salt lake city",
    "kansas city",
]
HELD_OUT = ["kyiv", "lima", "perth", "busan", "geneva", "oakland", "nairobi", "helsinki", "tampa", "auckland"]

AIRLINES = [
    "united",
    "delta",
    "american",
    "lufthansa",
    "air france",
    "british airways",
    "eva air",
    "china airlines",
    "cathay pacific",
    "singapore airlines",
    "emirates",
    "qantas",
    "klm",
    "ana",
    "japan airlines",
    "korean air",
    "air canada",
    "turkish airlines",
    "iberia",
    "alaska airlines",
]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty first",
    "twenty second",
    "twenty third",
    "twenty fourth",
    "twenty fifth",
    "twenty sixth",
    "twenty seventh",
    "twenty eighth",
    "twenty ninth",
    "thirtieth",
    "thirty first",
]
RELATIVE_DATES = ["today", "tomorrow", "next week", "this weekend"]
PERIODS = ["morning", "afternoon", "evening", "night"]
CLASSES = ["first class", "business class", "economy", "coach"]


def ordinal_digits(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def spans(words: str, slot: str) -> list[tuple[str, str]]:
    """Tokens of `words` tagged B-slot, I-slot, ..."""
    tokens = words.split()
    return [(t, ("B-" if i == 0 else "I-") + slot) for i, t in enumerate(tokens)]


def outside(words: str) -> list[tuple[str, str]]:
    return [(t, "O") for t in words.split()]


class Sampler:
    def __init__(self, rng: random.Random, cities: list[str]) -> None:
        self.rng, self.cities = rng, cities

    def city(self, slot: str, avoid: str = "") -> tuple[list[tuple[str, str]], str]:
        name = self.rng.choice([c for c in self.cities if c != avoid])
        return spans(name, slot), name

    def date(self, role: str) -> list[tuple[str, str]]:
        r = self.rng.random()
        if r < 0.5:
            day = self.rng.randint(1, 31)
            number = ordinal_digits(day) if self.rng.random() < 0.5 else ORDINAL_WORDS[day - 1]
            month = self.rng.choice(MONTHS)
            if self.rng.random() < 0.8:
                return outside("on") + spans(month, f"{role}.month_name") + spans(number, f"{role}.day_number")
            return (
                outside("on")
                + outside("the")
                + spans(number, f"{role}.day_number")
                + outside("of")
                + spans(month, f"{role}.month_name")
            )
        if r < 0.8:
            return outside("on") + spans(self.rng.choice(DAY_NAMES), f"{role}.day_name")
        return spans(self.rng.choice(RELATIVE_DATES), f"{role}.date_relative")

    def time(self, role: str) -> list[tuple[str, str]]:
        r = self.rng.random()
        if r < 0.5:
            hour = self.rng.randint(1, 12)
            clock = self.rng.choice([f"{hour} am", f"{hour} pm", f"{hour} o'clock", f"{hour}:30 pm", f"{hour}:15 am"])
            return outside(self.rng.choice(["at", "before", "after", "around"])) + spans(clock, f"{role}.time")
        return outside("in the") + spans(self.rng.choice(PERIODS), f"{role}.period_of_day")

    def airline(self) -> list[tuple[str, str]]:
        return spans(self.rng.choice(AIRLINES), "airline_name")


def flight_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    pattern = rng.randrange(8)
    if pattern == 0:
        words = (
            outside(rng.choice(["i want to fly", "i'd like to fly", "i need a flight", "book a flight"]))
            + outside("from")
            + origin
            + outside("to")
            + destination
            + s.date("depart_date")
        )
    elif pattern == 1:
        words = (
            outside(rng.choice(["arrive", "i want to arrive in", "i need to be in", "get me to"]))
            + destination
            + s.date("arrive_date")
        )
        if rng.random() < 0.4:
            words += s.time("arrive_time")
    elif pattern == 2:
        words = (
            outside(rng.choice(["leave", "i want to leave", "depart", "i'm leaving"])) + origin + s.date("depart_date")
        )
        if rng.random() < 0.4:
            words += s.time("depart_time")
    elif pattern == 3:
        words = (
            outside(rng.choice(["show me", "list", "what are the", "find"]))
            + outside("flights from")
            + origin
            + outside("to")
            + destination
            + s.time("depart_time")
        )
    elif pattern == 4:
        words = (
            outside("flights leaving")
            + origin
            + s.date("depart_date")
            + outside("and arriving in")
            + destination
            + s.time("arrive_time")
        )
    elif pattern == 5:
        stop, _ = s.city("stoploc.city_name", avoid=origin_name)
        words = (
            outside("i need a flight from")
            + origin
            + outside("to")
            + destination
            + outside(rng.choice(["with a stop in", "stopping in", "via"]))
            + stop
        )
    elif pattern == 6:
        words = (
            outside("do you have")
            + s.airline()
            + outside("flights from")
            + origin
            + outside("to")
            + destination
            + s.date("depart_date")
        )
    else:
        words = (
            outside("show me")
            + spans(rng.choice(["nonstop", "direct"]), "flight_stop")
            + outside("flights to")
            + destination
            + outside("from")
            + origin
        )
    return words, "atis_flight"


def fare_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    pattern = rng.randrange(4)
    if pattern == 0:
        words = (
            outside("how much is a")
            + spans(rng.choice(CLASSES), "class_type")
            + outside("ticket from")
            + origin
            + outside("to")
            + destination
        )
    elif pattern == 1:
        words = (
            outside("what is the")
            + spans(rng.choice(["cheapest", "lowest"]), "cost_relative")
            + outside("fare from")
            + origin
            + outside("to")
            + destination
        )
    elif pattern == 2:
        words = (
            outside("show me")
            + spans("round trip", "round_trip")
            + outside("fares from")
            + origin
            + outside("to")
            + destination
            + s.date("depart_date")
        )
    else:
        words = (
            outside("fares from")
            + origin
            + outside("to")
            + destination
            + spans(rng.choice(["less than", "under"]), "cost_relative")
            + spans(f"{rng.choice([200, 300, 500, 800, 1000])} dollars", "fare_amount")
        )
    return words, "atis_airfare"


def flight_and_fare(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    words = outside("show me flights and fares from") + origin + outside("to") + destination + s.date("depart_date")
    return words, "atis_flight#atis_airfare"


def ground_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    city, _ = s.city("city_name")
    transport = spans(rng.choice(["taxi", "limousine", "rental car", "bus", "train"]), "transport_type")
    if rng.random() < 0.5:
        words = outside("what ground transportation is available in") + city
    else:
        words = outside("is there a") + transport + outside("from the airport to downtown") + city
    return words, "atis_ground_service"


def airline_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    words = (
        outside(s.rng.choice(["which airlines fly from", "what airlines go from"]))
        + origin
        + outside("to")
        + destination
    )
    return words, "atis_airline"


def time_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    destination, _ = s.city("toloc.city_name")
    words = (
        outside("what time does the") + s.airline() + outside("flight arrive in") + destination + s.date("arrive_date")
    )
    return words, "atis_flight_time"


GENERATORS = [
    (flight_request, 55),
    (fare_request, 15),
    (ground_request, 10),
    (airline_request, 8),
    (time_request, 7),
    (flight_and_fare, 5),
]


def generate(rng: random.Random, cities: list[str], n: int) -> list[tuple[list[tuple[str, str]], str]]:
    sampler = Sampler(rng, cities)
    functions, weights = zip(*GENERATORS)
    return [rng.choices(functions, weights)[0](sampler) for _ in range(n)]


def main(out_dir: Path) -> None:
    words = " ".join(CITIES).split()
    cities, i = [], 0
    while i < len(words):
        for multi in MULTIWORD:
            parts = multi.split()
            if words[i : i + len(parts)] == parts:
                cities.append(multi)
                i += len(parts)
                break
        else:
            cities.append(words[i])
            i += 1
    rng = random.Random(SEED)
    train_cities = [c for c in cities if c not in HELD_OUT]
    for split, size in SIZES.items():
        pool = train_cities if split == "train" else cities
        sentences = generate(rng, pool, size)
        directory = out_dir / split
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "seq.in").write_text("".join(" ".join(t for t, _ in s) + "\n" for s, _ in sentences))
        (directory / "seq.out").write_text("".join(" ".join(g for _, g in s) + "\n" for s, _ in sentences))
        (directory / "label").write_text("".join(intent + "\n" for _, intent in sentences))
        print(f"{directory}: {size} utterances")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/demo"))
