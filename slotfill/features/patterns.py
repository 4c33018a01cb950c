"""Patterns: named regular expressions (the `regex` module) read as token features, like the lists
of slotfill.features.gazetteer (the model learns when a match is a slot), and, for a pattern that
names a slot, as an extractor that fills that slot with its match where the model found nothing
(docs/patterns.md). From the config's `patterns:` and from Rasa's `regex:` entries.

A hostile pattern cannot hang a parse: every search has a time limit (MATCH_TIMEOUT_S; a search
that runs out finds nothing, and is logged once per pattern), and a pattern that does not compile,
or that matches the empty string, is refused when it is read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import regex

from slotfill.config import PatternSource
from slotfill.errors import ConfigError

MATCH_TIMEOUT_S = 0.05  # one search of one sentence
MAX_PATTERN_CHARS = 1000
log = logging.getLogger(__name__)


class PatternError(ValueError):
    """A pattern that cannot be used (its name and why, one line)."""


@dataclass(frozen=True)
class Pattern:
    name: str
    expression: str
    slot: str | None = None  # the slot type its matches fill (an extractor), or None: a feature only
    compiled: regex.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.expression) > MAX_PATTERN_CHARS:
            raise PatternError(f"{self.name}: a pattern is at most {MAX_PATTERN_CHARS} characters")
        try:
            compiled = regex.compile(self.expression, regex.VERSION1)
        except regex.error as error:
            raise PatternError(f"{self.name}: {self.expression!r} is not a regular expression ({error})") from None
        if compiled.fullmatch("") is not None:
            raise PatternError(f"{self.name}: {self.expression!r} matches the empty string")
        object.__setattr__(self, "compiled", compiled)

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """(start, end) of each match in `text`; None where the search runs out of time."""
        try:
            return [m.span() for m in self.compiled.finditer(text, timeout=MATCH_TIMEOUT_S) if m.end() > m.start()]
        except TimeoutError:
            return None


def joined(words: Sequence[str]) -> tuple[str, list[int]]:
    """Tokens written back as text, and where each starts: one space between two words, none beside
    a token of symbols alone ("@", "-", ".", "/", ":"), which the tokeniser split off a word, and
    none after a prefix ("+", "#"): the text an email, an order number, a phone number or a URL was
    typed as."""
    text, starts = "", []
    for i, word in enumerate(words):
        if i and not (_all_in(word, JOINERS) or _all_in(words[i - 1], JOINERS | PREFIXES)):
            text += " "
        starts.append(len(text))
        text += word
    return text, starts


def _all_in(word: str, characters: frozenset[str]) -> bool:
    return bool(word) and all(character in characters for character in word)


JOINERS = frozenset("@-./:_~")
PREFIXES = frozenset("+#")


class PatternSet:
    """The patterns a model reads, in feature order."""

    def __init__(self, patterns: Iterable[Pattern] = ()) -> None:
        self.patterns = tuple(patterns)
        names = [p.name for p in self.patterns]
        if len(set(names)) != len(names):
            raise PatternError(f"two patterns are named {next(n for n in names if names.count(n) > 1)!r}")
        self._timed_out: set[str] = set()  # the patterns whose search ran out of time (logged once each)

    def _spans(self, pattern: Pattern, text: str) -> list[tuple[int, int]]:
        found = pattern.spans(text)
        if found is None:
            if pattern.name not in self._timed_out:
                self._timed_out.add(pattern.name)
                log.warning(
                    "pattern %s: a search ran out of time (%s s): no match there", pattern.name, MATCH_TIMEOUT_S
                )
            return []
        return found

    def __len__(self) -> int:
        return len(self.patterns)

    def features(self, words: Sequence[str], first_bit: int) -> list[int]:
        """One bitmask per word, pattern k at bits first_bit + 2k (a match begins at the word) and
        first_bit + 2k + 1 (the word is inside one); a match covers the words it overlaps in the
        words written back as text (`joined`: "anna.b @ mail.org" is read as "anna.b@mail.org")."""
        bits = [0] * len(words)
        if not self.patterns or not words:
            return bits
        text, starts = joined(words)
        for k, pattern in enumerate(self.patterns):
            for start, end in self._spans(pattern, text):
                covered = [i for i, s in enumerate(starts) if s < end and s + len(words[i]) > start]
                for n, i in enumerate(covered):
                    bits[i] |= 1 << (first_bit + 2 * k + (1 if n else 0))
        return bits

    def extracted(self, text: str, taken: Sequence[tuple[int, int]]) -> list[tuple[str, int, int]]:
        """(slot, start, end) of each extractor's matches in `text` that overlap none of `taken`
        (the slots the model found) nor an earlier match, in text order."""
        found: list[tuple[str, int, int]] = []
        for pattern in self.patterns:
            if pattern.slot is None:
                continue
            for start, end in self._spans(pattern, text):
                if all(end <= a or start >= b for a, b in [*taken, *((s, e) for _, s, e in found)]):
                    found.append((pattern.slot, start, end))
        return sorted(found, key=lambda item: item[1])

    def to_json(self) -> list[dict[str, str | None]]:
        return [{"name": p.name, "regex": p.expression, "slot": p.slot} for p in self.patterns]

    @classmethod
    def from_json(cls, items: Iterable[dict[str, str | None]]) -> PatternSet:
        return cls(Pattern(str(i["name"]), str(i["regex"]), i.get("slot")) for i in items)


def pattern_set(configured: Mapping[str, str | PatternSource], regexes: Mapping[str, Sequence[str]]) -> PatternSet:
    """The patterns of a training run: the config's `patterns:` (a string: a feature; {regex, slot}:
    an extractor too), then the training data's Rasa `regex:` entries (features; one pattern per
    name, its expressions as alternatives) whose names the config does not use. Raises ConfigError
    naming the pattern."""
    patterns = []
    try:
        for name, source in configured.items():
            if isinstance(source, str):
                patterns.append(Pattern(name, source))
            else:
                patterns.append(Pattern(name, source.regex, source.slot))
        for name, expressions in regexes.items():
            if name not in configured:
                patterns.append(Pattern(name, "|".join(f"(?:{e})" for e in expressions)))
        return PatternSet(patterns)
    except PatternError as error:
        raise ConfigError(f"patterns.{error}") from None
