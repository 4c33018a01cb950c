#!/usr/bin/env python3
"""Generate data/demo: a small ATIS-style slot-filling dataset, deterministically.

Utterances about flights, fares, airlines and ground transport between world cities, with ATIS's
slot names (toloc.city_name, depart_date.day_number, ...) and intents (atis_flight, ...), written
in the ATIS directory format: <split>/seq.in, <split>/seq.out, <split>/label.
A tenth of the cities, and the last phrasing of each kind of request, appear only in dev and
test, so those splits measure generalisation to unseen words and unseen ways of asking; openers
and closers ("hi", "please", "thanks") come and go as people type them. Run: python scripts/data/make_demo_data.py [OUT_DIR]  (default data/demo)
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
# people's names that are also places (tagged O); Charlotte and Phoenix are left out: data/checks and
# the open-world tests ask about them
PERSON_NAMES = ["sydney", "florence", "victoria", "austin", "dallas", "georgia", "paris", "madison", "savannah", "chelsea"]  # fmt: skip
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


OPENERS = ["", "", "", "", "please", "hi", "hello", "can you", "could you", "i'd like to", "i want to", "ok"]  # fmt: skip
CLOSERS = ["", "", "", "", "", "please", "thanks", "thank you"]


class Sampler:
    """Draws the parts of an utterance. In train, the last phrasing of each kind is never drawn
    (`phrasing`), so dev and test hold phrasings the model has not seen, as they hold cities."""

    def __init__(self, rng: random.Random, cities: list[str], train: bool) -> None:
        self.rng, self.cities, self.train = rng, cities, train

    def phrasing(self, choices: list[str]) -> str:
        return self.rng.choice(choices[:-1] if self.train else choices)

    def pattern(self, count: int) -> int:
        return self.rng.randrange(count - 1 if self.train else count)

    def polite(self, words: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """An opener and a closer around the utterance, now and then (never an opener before a bare verb)."""
        opener, closer = self.rng.choice(OPENERS), self.rng.choice(CLOSERS)
        if opener in ("can you", "could you", "i'd like to", "i want to"):
            opener = ""  # they need a verb after them, which the utterance may not begin with
        return outside(opener) + words + outside(closer)

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
            return outside(self.rng.choice(["on", "on", "next", "this"])) + spans(
                self.rng.choice(DAY_NAMES), f"{role}.day_name"
            )
        return spans(self.rng.choice(RELATIVE_DATES), f"{role}.date_relative")

    def time(self, role: str) -> list[tuple[str, str]]:
        r = self.rng.random()
        if r < 0.5:
            hour = self.rng.randint(1, 12)
            clock = self.rng.choice([f"{hour} am", f"{hour} pm", f"{hour} o'clock", f"{hour}:30 pm", f"{hour}:15 am"])
            return outside(self.rng.choice(["at", "before", "after", "around"])) + spans(clock, f"{role}.time")
        return outside(self.rng.choice(["in the", "in the", "early in the", "late in the"])) + spans(
            self.rng.choice(PERIODS), f"{role}.period_of_day"
        )

    def maybe_date(self, role: str, chance: float = 0.5) -> list[tuple[str, str]]:
        return self.date(role) if self.rng.random() < chance else []

    def airline(self) -> list[tuple[str, str]]:
        return spans(self.rng.choice(AIRLINES), "airline_name")


def flight_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    pattern = s.pattern(13)
    if pattern == 0:
        ask = s.phrasing(["i want to fly", "i'd like to fly", "i need a flight", "book a flight", "fly", "we want to fly", "get me a flight"])  # fmt: skip
        words = outside(ask) + outside("from") + origin + outside("to") + destination + s.maybe_date("depart_date", 0.6)
    elif pattern == 1:
        ask = s.phrasing(
            ["arrive", "i want to arrive in", "i need to be in", "get me to", "i must be in", "arriving in"]
        )
        words = outside(ask) + destination + s.date("arrive_date")
        if rng.random() < 0.4:
            words += s.time("arrive_time")
    elif pattern == 2:
        ask = s.phrasing(["leave", "i want to leave", "depart", "i'm leaving", "leaving", "i have to leave"])
        words = outside(ask) + origin + s.date("depart_date")
        if rng.random() < 0.4:
            words += s.time("depart_time")
    elif pattern == 3:
        ask = s.phrasing(["show me", "list", "what are the", "find", "are there any", "give me the", "any"])
        words = outside(ask) + outside("flights from") + origin + outside("to") + destination + s.time("depart_time")
    elif pattern == 4:
        words = (
            outside(s.phrasing(["flights leaving", "a flight leaving", "planes leaving", "something leaving"]))
            + origin
            + s.date("depart_date")
            + outside("and arriving in")
            + destination
            + s.time("arrive_time")
        )
    elif pattern == 5:
        stop, _ = s.city("stoploc.city_name", avoid=origin_name)
        words = (
            outside(s.phrasing(["i need a flight from", "a flight from", "from", "fly from", "going from"]))
            + origin
            + outside("to")
            + destination
            + outside(s.phrasing(["with a stop in", "stopping in", "via", "connecting in", "through"]))
            + stop
        )
    elif pattern == 6:
        words = (
            outside(s.phrasing(["do you have", "are there", "is there a", "i want", "does"]))
            + s.airline()
            + outside(s.phrasing(["flights from", "flight from", "service from", "flying from"]))
            + origin
            + outside("to")
            + destination
            + s.maybe_date("depart_date")
        )
    elif pattern == 7:
        words = (
            outside(s.phrasing(["show me", "book a", "i want a", "find me a", "is there a"]))
            + spans(rng.choice(["nonstop", "direct"]), "flight_stop")
            + outside(s.phrasing(["flights to", "flight to", "flight going to", "connection to"]))
            + destination
            + outside("from")
            + origin
        )
    elif pattern == 8:
        words = origin + outside(s.phrasing(["to", "to", "-", "then"])) + destination + s.date("depart_date")
    elif pattern == 9:
        words = (
            outside(s.phrasing(["i'm going to", "going to", "i'm flying to", "flying to", "travelling to"]))
            + destination
            + outside("from")
            + origin
            + s.maybe_date("depart_date")
        )
    elif pattern == 10:
        # a person whose name is also a place is no slot: the context says so, not a list
        who = s.phrasing(["my friend", "my sister", "my boss", "my colleague", "my wife", "my son"])
        words = (
            outside(f"{who} {rng.choice(PERSON_NAMES)}")
            + outside(s.phrasing(["wants to fly from", "needs a flight from", "is flying from", "has to get from"]))
            + origin
            + outside("to")
            + destination
            + s.maybe_date("depart_date", 0.4)
        )
    elif pattern == 11:
        words = (
            outside(s.phrasing(["i need to be in", "i have to be in", "get me to", "i want to get to", "i must reach"]))
            + destination
            + outside("by")
            + spans(f"{rng.randint(1, 12)} {rng.choice(['am', 'pm'])}", "arrive_time.time")
        )
    else:  # dev and test only
        words = (
            outside(rng.choice(["any flights to", "anything going to", "what flies to"]))
            + destination
            + outside("from")
            + origin
            + s.time("depart_time")
        )
    return s.polite(words), "atis_flight"


def fare_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    pattern = s.pattern(6)
    if pattern == 0:
        words = (
            outside(s.phrasing(["how much is a", "what does a", "price of a", "how expensive is a", "what is a"]))
            + spans(rng.choice(CLASSES), "class_type")
            + outside(s.phrasing(["ticket from", "seat from", "fare from", "flight from"]))
            + origin
            + outside("to")
            + destination
        )
    elif pattern == 1:
        words = (
            outside(s.phrasing(["what is the", "what's the", "show me the", "find the", "tell me the"]))
            + spans(rng.choice(["cheapest", "lowest"]), "cost_relative")
            + outside(s.phrasing(["fare from", "price from", "ticket from", "fares from"]))
            + origin
            + outside("to")
            + destination
        )
    elif pattern == 2:
        words = (
            outside(s.phrasing(["show me", "list", "what are the", "find"]))
            + spans("round trip", "round_trip")
            + outside("fares from")
            + origin
            + outside("to")
            + destination
            + s.maybe_date("depart_date")
        )
    elif pattern == 3:
        words = (
            outside(s.phrasing(["fares from", "prices from", "tickets from", "airfare from"]))
            + origin
            + outside("to")
            + destination
            + spans(rng.choice(["less than", "under"]), "cost_relative")
            + spans(f"{rng.choice([200, 300, 500, 800, 1000])} dollars", "fare_amount")
        )
    elif pattern == 4:
        words = (
            outside(
                s.phrasing(
                    [
                        "how much does it cost to fly from",
                        "how much is it to fly from",
                        "what does it cost to fly from",
                        "how much to fly from",
                    ]
                )
            )  # fmt: skip
            + origin
            + outside("to")
            + destination
            + s.maybe_date("depart_date", 0.3)
        )
    else:  # dev and test only
        words = outside("what do tickets from") + origin + outside("to") + destination + outside("cost")
    return s.polite(words), "atis_airfare"


def flight_and_fare(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    ask = s.phrasing(["show me flights and fares from", "list flights and prices from", "flights and fares from", "what flights and fares go from"])  # fmt: skip
    words = outside(ask) + origin + outside("to") + destination + s.maybe_date("depart_date", 0.7)
    return s.polite(words), "atis_flight#atis_airfare"


def ground_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    city, _ = s.city("city_name")
    transport = spans(rng.choice(["taxi", "limousine", "rental car", "bus", "train", "shuttle"]), "transport_type")
    pattern = s.pattern(4)
    if pattern == 0:
        ask = s.phrasing(["what ground transportation is available in", "what ground transportation is there in", "ground transportation in", "what transportation is there in"])  # fmt: skip
        words = outside(ask) + city
    elif pattern == 1:
        words = (
            outside(s.phrasing(["is there a", "can i get a", "i need a", "where can i get a"]))
            + transport
            + outside(s.phrasing(["from the airport to downtown", "from the airport into", "to downtown", "into"]))
            + city
        )
    elif pattern == 2:
        words = outside(s.phrasing(["how do i get from the airport to downtown", "how do i get downtown in", "how can i get to the city center of"])) + city  # fmt: skip
    else:  # dev and test only
        words = outside("getting from the airport to downtown") + city
    return s.polite(words), "atis_ground_service"


def airline_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    origin, origin_name = s.city("fromloc.city_name")
    destination, _ = s.city("toloc.city_name", avoid=origin_name)
    if s.pattern(3) == 1:
        words = outside(s.phrasing(["which airlines serve", "what airlines fly into", "airlines flying to", "which airline flies to"])) + destination  # fmt: skip
    else:
        ask = s.phrasing(["which airlines fly from", "what airlines go from", "which airlines have flights from", "airlines from", "who flies from"])  # fmt: skip
        words = outside(ask) + origin + outside("to") + destination
    return s.polite(words), "atis_airline"


def time_request(s: Sampler) -> tuple[list[tuple[str, str]], str]:
    rng = s.rng
    destination, destination_name = s.city("toloc.city_name")
    if s.pattern(3) == 1:
        origin, _ = s.city("fromloc.city_name", avoid=destination_name)
        words = (
            outside(
                s.phrasing(
                    [
                        "when does the flight from",
                        "what time does the flight from",
                        "when do flights from",
                        "at what time does the plane from",
                    ]
                )
            )  # fmt: skip
            + origin
            + outside("to")
            + destination
            + outside(rng.choice(["leave", "depart"]))
        )
    else:
        ask = s.phrasing(["what time does the", "when does the", "at what time does the", "when will the"])
        words = (
            outside(ask) + s.airline() + outside("flight arrive in") + destination + s.maybe_date("arrive_date", 0.7)
        )
    return s.polite(words), "atis_flight_time"


GENERATORS = [
    (flight_request, 55),
    (fare_request, 15),
    (ground_request, 10),
    (airline_request, 8),
    (time_request, 7),
    (flight_and_fare, 5),
]


def generate(rng: random.Random, cities: list[str], n: int, train: bool) -> list[tuple[list[tuple[str, str]], str]]:
    sampler = Sampler(rng, cities, train)
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
        sentences = generate(rng, pool, size, split == "train")
        directory = out_dir / split
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "seq.in").write_text("".join(" ".join(t for t, _ in s) + "\n" for s, _ in sentences))
        (directory / "seq.out").write_text("".join(" ".join(g for _, g in s) + "\n" for s, _ in sentences))
        (directory / "label").write_text("".join(intent + "\n" for _, intent in sentences))
        print(f"{directory}: {size} utterances")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/demo"))
