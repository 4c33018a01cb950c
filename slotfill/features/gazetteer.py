"""Gazetteers: named lists of values (cities, airports, airlines, ...) found in a sentence as token features.

A gazetteer is a list of entries; an entry is one value with optional aliases, written on one line
as `New York City | NYC`. Every form of every entry is matched, case- and accent-folded, over
whole tokens, punctuation and periods ignored ("St. Louis" = "st louis"). For each list, the
longest match starting at each token wins, left to right, and gives its tokens BIO membership
features: bit 2k is "begins a value of list k", bit 2k+1 "inside one". The encoder reads these
beside the word and character features, so a value added to a list after training is tagged
wherever the model tags the list's other values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slotfill.choices import MAX_GAZETTEERS
from slotfill.errors import DataError
from slotfill.text.tokenise import (
    ASCII_PUNCTUATION,
    WORD_CACHE_SIZE,
    is_punctuation,
    normalise,
    token_texts,
    tokenise,
)

ALIAS_SEPARATOR = "|"
_PLAIN_FORM = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_END = ""  # trie key of "a form ends here"; no folded word is empty

Entry = tuple[str, ...]  # the forms of one value, the canonical one first


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(word: str) -> str:
    """The matching form of one model-view word: normalised, periods and apostrophes dropped."""
    return normalise(word).replace(".", "").replace("'", "")


@functools.lru_cache(maxsize=1 << 18)
def form_words(form: str) -> tuple[str, ...]:
    """The folded words of a written form, as the tokeniser splits it, punctuation left out.
    A pure function of the string, cached: reading a list checks every form, building its matcher
    needs them again (two thirds of loading a model with the built-in lists)."""
    if _PLAIN_FORM.fullmatch(form):  # ASCII words and single spaces (most entries): the tokeniser splits at the spaces
        return tuple(form.lower().split(" "))
    if form.isascii():  # "Baie-Comeau", "St. Lewis": the tokeniser's spans; an ASCII token's norm is its lowercase
        pieces = token_texts(form.lower())
        folded = (piece.replace(".", "").replace("'", "") for piece in pieces if piece.strip(ASCII_PUNCTUATION))
    else:
        folded = (fold(token.text) for token in tokenise(form) if not is_punctuation(token.text))
    return tuple(word for word in folded if word)


@dataclass(frozen=True)
class Gazetteer:
    name: str
    entries: tuple[Entry, ...]
    source: str = ""  # where the entries came from, for people: "airportsdata 20260905 city + training slots city_name"

    def lines(self) -> list[str]:
        return [f" {ALIAS_SEPARATOR} ".join(entry) for entry in self.entries]


def parse_entries(lines: Iterable[str], where: str) -> list[Entry]:
    """Entries from the lines of a gazetteer file: `#` starts a comment line, blank lines are
    skipped, `|` separates a value from its aliases. Raises DataError naming `where:line`."""
    entries = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        forms = tuple(form.strip() for form in text.split(ALIAS_SEPARATOR)) if ALIAS_SEPARATOR in text else (text,)
        for form in forms:
            if not form_words(form):
                raise DataError(f"{where}:{number}: {form!r} has no word to match")
        entries.append(forms)
    return entries


MAX_ENTRY_LINE_BYTES = 4096  # one value and its synonyms; a longer line is not a list (/dev/zero)
MAX_GAZETTEER_BYTES = 512 << 20


def _gazetteer_lines(path: Path) -> list[bytes]:
    """The lines of a list file, read in bounded pieces: a line or a file past its limit stops
    with one line naming it, before it fills memory."""
    lines, total = [], 0
    try:
        with open(path, "rb") as handle:
            while line := handle.readline(MAX_ENTRY_LINE_BYTES + 1):
                total += len(line)
                if len(line) > MAX_ENTRY_LINE_BYTES and not line.endswith(b"\n"):
                    raise DataError(
                        f"{path}:{len(lines) + 1}: a line of more than {MAX_ENTRY_LINE_BYTES} bytes is not a list entry"
                    )
                if total > MAX_GAZETTEER_BYTES:
                    raise DataError(
                        f"{path}: more than {MAX_GAZETTEER_BYTES >> 20} MB; a gazetteer file is one value per line"
                    )
                lines.append(line.rstrip(b"\n"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such gazetteer file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a gazetteer file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    if lines:
        lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
    return lines


def read_gazetteer_file(path: Path) -> list[Entry]:
    """The entries of a UTF-8 gazetteer file (a BOM accepted). Raises DataError naming the file."""
    path = Path(path)
    decoded = []
    for number, line in enumerate(_gazetteer_lines(path), 1):
        try:
            decoded.append(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise DataError(
                f"{path}:{number}: not UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})"
            ) from None
    entries = parse_entries(decoded, str(path))
    if not entries:
        raise DataError(f"{path}: no entries (a gazetteer file lists one value per line)")
    return entries


def merge_entries(*groups: Iterable[Entry]) -> tuple[Entry, ...]:
    """Entries of all groups in order, each value once: a form already listed (after folding) is dropped."""
    seen: set[tuple[str, ...]] = set()
    merged = []
    for group in groups:
        for entry in group:
            fresh = tuple(form for form in entry if form_words(form) not in seen)
            seen.update(form_words(form) for form in fresh)
            if fresh:
                merged.append(fresh)
    return tuple(merged)


@dataclass(frozen=True)
class GazetteerUpdate:
    """Entries to add to the model's list `name` at prediction time, or to replace it with."""

    name: str
    entries: tuple[Entry, ...]
    replace: bool = False

    @classmethod
    def from_spec(cls, spec: str) -> GazetteerUpdate:
        """`NAME=FILE` adds the file's entries to list NAME; `NAME=FILE:replace` replaces the list."""
        name, sep, target = spec.partition("=")
        if not sep or not name.strip() or not target:
            raise DataError(f"--gazetteer {spec!r}: expected NAME=FILE or NAME=FILE:replace")
        replace = target.endswith(":replace")
        path = Path(target.removesuffix(":replace")) if replace else Path(target)
        return cls(name.strip(), tuple(read_gazetteer_file(path)), replace)


class GazetteerSet:
    """The lists a model reads, in feature order, and the matcher over all of them."""

    def __init__(self, gazetteers: Sequence[Gazetteer] = ()) -> None:
        if len(gazetteers) > MAX_GAZETTEERS:
            raise ValueError(f"at most {MAX_GAZETTEERS} gazetteers")
        self.gazetteers = tuple(gazetteers)
        self.names = tuple(g.name for g in self.gazetteers)
        self._trie = self._build_trie()
        self._canonical: dict[str, dict[tuple[str, ...], str]] = {}  # per list, built when first asked

    @property
    def num_features(self) -> int:
        return 2 * len(self.gazetteers)

    def __len__(self) -> int:
        return len(self.gazetteers)

    def __getitem__(self, name: str) -> Gazetteer:
        return self.gazetteers[self.names.index(name)]

    def _build_trie(self) -> dict:
        """Nested dicts over folded words; the `_END` key holds the bitmask of lists a form belongs to."""
        root: dict = {}
        for index, gazetteer in enumerate(self.gazetteers):
            for entry in gazetteer.entries:
                for form in entry:
                    node = root
                    for word in form_words(form):
                        child = node.get(word)
                        if child is None:  # (not setdefault: that builds an empty dict for every word)
                            child = node[word] = {}
                        node = child
                    node[_END] = node.get(_END, 0) | (1 << index)
        return root

    def features(self, words: Sequence[str]) -> list[int]:
        """One bitmask per word (model-view words): bit 2k begins a match of list k, 2k+1 is inside one."""
        if not self.gazetteers:
            return [0] * len(words)
        folded = [fold(word) for word in words]
        bits = [0] * len(words)
        free_from = [0] * len(self.gazetteers)  # per list: where its next match may start
        for start in range(len(folded)):
            longest: dict[int, int] = {}  # list -> end of its longest match starting here
            node, end = self._trie, start
            while end < len(folded) and folded[end] in node:
                node, end = node[folded[end]], end + 1
                lists = node.get(_END, 0)
                while lists:
                    low = lists & -lists
                    longest[low.bit_length() - 1] = end
                    lists ^= low
            for index, match_end in longest.items():
                if start < free_from[index]:
                    continue
                bits[start] |= 1 << (2 * index)
                for inside in range(start + 1, match_end):
                    bits[inside] |= 1 << (2 * index + 1)
                free_from[index] = match_end
        return bits

    def canonical(self, name: str, text: str) -> str | None:
        """The canonical form (an entry's first) of the entry of list `name` that has `text` as a
        form, matched as features match (folded); None when the list does not hold it."""
        forms = self._canonical.get(name)
        if forms is None:
            forms = {}
            for entry in self[name].entries:
                for form in entry:
                    forms.setdefault(form_words(form), entry[0])
            self._canonical[name] = forms
        return forms.get(form_words(text))

    def updated(self, updates: Iterable[GazetteerUpdate]) -> GazetteerSet:
        """A new set with entries added to (or replacing) named lists; the feature order stays."""
        updates = list(updates)
        if not updates:
            return self  # nothing changes (a set is never modified: sharing it is safe)
        entries = {g.name: g.entries for g in self.gazetteers}
        added: set[str] = set()
        for update in updates:
            if update.replace and update.name in added:
                raise DataError(
                    f"--gazetteer {update.name}=...:replace would discard the entries an earlier --gazetteer "
                    f"{update.name}=... added: give the replacing list first"
                )
            added.add(update.name)
            if update.name not in entries:
                known = ", ".join(self.names) or "none"
                raise DataError(f"--gazetteer {update.name}: the model has no such list (it has: {known})")
            entries[update.name] = (
                update.entries if update.replace else merge_entries(entries[update.name], update.entries)
            )
        return GazetteerSet([Gazetteer(g.name, entries[g.name], g.source) for g in self.gazetteers])
