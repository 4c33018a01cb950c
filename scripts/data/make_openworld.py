#!/usr/bin/env python3
"""Derive open-world variants of ATIS dev and test: the same sentences as people would type them
about places ATIS never names.

    python scripts/data/make_openworld.py ../shared/data/atis runs/openworld [--seed 0]

For each dev and test sentence (slotfill's own construction, deterministic for a seed):
- every city, airport and airport code slot is replaced by a real one from `airportsdata` whose
  words never occur in ATIS train (dev and test draw from two disjoint halves of that pool, so
  tuning on dev cannot see a test value); a value repeated in a sentence keeps one replacement;
- it is cased as people type: sentence start, "I", names of cities, airports, airlines, states,
  months and days capitalised; airport codes in capitals;
- half the sentences end with "?" (questions) or "."; one in ten gets a trailing "please" or
  "thanks" (sometimes after a comma); half the contractions get a typographic apostrophe (I’d).

Writes OUT/{dev,test}/ in the ATIS format (seq.in tokens exactly as slotfill's tokeniser splits
the typed text, seq.out, label) and OUT/{dev,test}/text.txt, the typed sentences themselves, plus
OUT/{dev,test}/source_lines.txt (the line of the original split each sentence came from).
Nothing here is copied into the repository: OUT is a scratch directory.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from slotfill.data.example import Example  # noqa: E402
from slotfill.data.formats import read_split  # noqa: E402
from slotfill.features.gazetteer import form_words  # noqa: E402
from slotfill.features.gazetteer_sources import airport_forms, slot_type  # noqa: E402
from slotfill.text import bio  # noqa: E402
from slotfill.text.tokenise import Token, tokenise  # noqa: E402

REPLACED = ("city_name", "airport_name", "airport_code")
CAPITALISED_SLOTS = (
    "city_name",
    "airport_name",
    "airline_name",
    "state_name",
    "country_name",
    "month_name",
    "day_name",
)
QUESTION_WORDS = {"what", "which", "who", "where", "when", "how", "is", "are", "do", "does", "can", "could", "would", "will", "may", "should", "was", "were", "did"}  # fmt: skip
POLITE = (" please", ", please", " thanks", ", thanks", ", thank you")
MAX_NGRAM = 6
PLAIN_NAME = re.compile(r"[^\W\d_]+(?:(?: |-|'|\. ?)[^\W\d_]+)*")  # "Winston-Salem", "St. John's"; not "X ( Y )"


def ngrams(examples: list[Example]) -> set[tuple[str, ...]]:
    """Every folded word sequence (up to MAX_NGRAM words) of the training sentences."""
    seen = set()
    for example in examples:
        words = form_words(" ".join(example.tokens))
        for n in range(1, MAX_NGRAM + 1):
            seen.update(words[i : i + n] for i in range(len(words) - n + 1))
    return seen


def _half(value: str) -> str:
    return "dev" if hashlib.sha1(value.encode()).digest()[0] % 2 == 0 else "test"


def value_pools(train: list[Example]) -> dict[str, dict[str, list[str]]]:
    """split -> slot type -> replacement values that never occur in ATIS train."""
    import airportsdata

    seen = ngrams(train)
    train_words = {w for e in train for w in form_words(" ".join(e.tokens))}
    airports = list(airportsdata.load("IATA").values())
    candidates = {
        "city_name": sorted({a["city"].strip() for a in airports}),
        "airport_name": sorted({form for a in airports for form in airport_forms(a["name"], a["city"])[1:3]}),
        "airport_code": sorted(a["iata"] for a in airports if a["iata"].lower() not in train_words),
    }
    pools: dict[str, dict[str, list[str]]] = {"dev": {}, "test": {}}
    for kind, values in candidates.items():
        plain = [v for v in values if PLAIN_NAME.fullmatch(v)]
        fresh = [v for v in plain if (words := form_words(v)) and words not in seen and len(words) <= MAX_NGRAM]
        for split in pools:
            pools[split][kind] = [v for v in fresh if _half(v) == split]
    return pools


def capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def typed_tokens(
    example: Example, pools: dict[str, list[str]], rng: random.Random
) -> tuple[list[str], list[str], list[bool]]:
    """Replace the example's places, then case its tokens as a person would. Also returns, per
    token, whether it is typed right after the previous one, without a space ("Winston-Salem")."""
    tokens: list[str] = []
    tags: list[str] = []
    attached: list[bool] = []
    chosen: dict[tuple[str, str], list[Token]] = {}
    position = 0
    for span in bio.spans(example.tags):
        kind = slot_type(span.label)
        if kind not in REPLACED:
            continue
        original = (kind, " ".join(example.tokens[span.start : span.end]))
        if original not in chosen:
            value = rng.choice(pools[kind])
            chosen[original] = tokenise(value.upper() if kind == "airport_code" else value)
        value_tokens = chosen[original]
        tokens += example.tokens[position : span.start]
        tags += example.tags[position : span.start]
        attached += [False] * (span.start - position)
        tokens += [t.text for t in value_tokens]
        tags += bio.tags_from_spans([bio.Span(span.label, 0, len(value_tokens))], len(value_tokens))
        attached += [j > 0 and value_tokens[j - 1].end == t.start for j, t in enumerate(value_tokens)]
        position = span.end
    tokens += example.tokens[position:]
    tags += example.tags[position:]
    attached += [False] * (len(example.tokens) - position)
    cased = []
    for i, (token, tag) in enumerate(zip(tokens, tags)):
        kind = slot_type(bio.split_tag(tag)[1]) if tag != "O" else ""
        if token == "i" or token.startswith("i'"):
            token = "I" + token[1:]
        elif kind in CAPITALISED_SLOTS and token.islower():
            token = capitalised(token)
        if "'" in token and rng.random() < 0.5:
            token = token.replace("'", "\u2019")
        cased.append(capitalised(token) if i == 0 else token)
    return cased, tags, attached


def punctuate(
    tokens: list[str], tags: list[str], attached: list[bool], rng: random.Random
) -> tuple[str, list[str], list[str]]:
    """Add a trailing courtesy and end punctuation; return the typed text and its tokens and tags."""
    text = "".join(("" if glued or i == 0 else " ") + token for i, (token, glued) in enumerate(zip(tokens, attached)))
    if rng.random() < 0.1:
        text += rng.choice(POLITE)
    if rng.random() < 0.5:
        text += "?" if tokens[0].lower() in QUESTION_WORDS else "."
    typed = [t.text for t in tokenise(text)]
    extra = typed[len(tokens) :]
    if typed[: len(tokens)] != tokens:
        raise AssertionError(f"the tokeniser splits {text!r} differently: {typed}")
    return text, typed, tags + ["O"] * len(extra)


def write_split(out: Path, examples: list[Example], pools: dict[str, list[str]], seed: int) -> None:
    rng = random.Random(f"openworld/{seed}/{out.name}")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, example in enumerate(examples, 1):
        tokens, tags, attached = typed_tokens(example, pools, rng)
        text, typed, typed_tags = punctuate(tokens, tags, attached, rng)
        rows.append((text, typed, typed_tags, example.intent or "", number))
    (out / "seq.in").write_text("".join(" ".join(r[1]) + "\n" for r in rows), encoding="utf-8")
    (out / "seq.out").write_text("".join(" ".join(r[2]) + "\n" for r in rows), encoding="utf-8")
    (out / "label").write_text("".join(r[3] + "\n" for r in rows), encoding="utf-8")
    (out / "text.txt").write_text("".join(r[0] + "\n" for r in rows), encoding="utf-8")
    (out / "source_lines.txt").write_text("".join(f"{r[4]}\n" for r in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atis", type=Path, help="the ATIS directory (train/, dev/, test/)")
    parser.add_argument("out", type=Path, help="where to write dev/ and test/")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train = read_split(args.atis / "train", "atis")
    pools = value_pools(train)
    for split in ("dev", "test"):
        write_split(args.out / split, read_split(args.atis / split, "atis"), pools[split], args.seed)
        sizes = ", ".join(f"{len(v)} {k}" for k, v in pools[split].items())
        print(f"{args.out / split}: replacements drawn from {sizes}")


if __name__ == "__main__":
    main()
