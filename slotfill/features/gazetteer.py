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

import collections
import contextlib
import functools
import gc
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from slotfill.choices import MAX_GAZETTEERS
from slotfill.errors import DataError
from slotfill.features.patterns import PatternSet
from slotfill.text.tokenise import (
    ASCII_PUNCTUATION,
    WORD_CACHE_SIZE,
    is_punctuation,
    normalise,
    token_texts,
)

ALIAS_SEPARATOR = "|"

Entry = tuple[str, ...]  # the forms of one value, the canonical one first


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(word: str) -> str:
    """The matching form of one model-view word: normalised, periods and apostrophes dropped."""
    return normalise(word).replace(".", "").replace("'", "")


def _is_plain(form: str) -> bool:
    """ASCII letters and digits in words between single spaces (`[A-Za-z0-9]+( [A-Za-z0-9]+)*`,
    without a regex: reading a list of a million entries asks it of each form)."""
    if form.isascii() and form.isalnum():
        return True
    return form.isascii() and form.replace(" ", "").isalnum() and "  " not in form and form[0] != " " != form[-1]


def form_words(form: str) -> tuple[str, ...]:
    """The folded words of a written form, as the tokeniser splits it, punctuation left out."""
    if _is_plain(form):  # ASCII words and single spaces (most entries): the tokeniser splits at the spaces
        return tuple(form.lower().split(" "))
    return _cached_words(form)


def form_key(form: str) -> str:
    """What the matcher looks a form up by: its folded words joined by single spaces (a folded
    word never holds a space, so two forms have one key only when they have the same words)."""
    if _is_plain(form):
        return form.lower()
    return " ".join(_tokenised_words(form))


_WORD_CHARACTER = re.compile(r"[^\W_]")  # what str.isalnum() says yes to, searched in C


def has_words(form: str) -> bool:
    """Whether form_words(form) is not empty: a letter or digit makes a word (the common case,
    answered without tokenising), and a form without one has words only where the tokeniser says."""
    return _WORD_CHARACTER.search(form) is not None or bool(_tokenised_words(form))


@functools.lru_cache(maxsize=1 << 16)
def _cached_words(form: str) -> tuple[str, ...]:
    """_tokenised_words, cached for form_words: the values of the built-in lists are looked up
    again and again (slotfill.values.places); loading a list does not go through the cache (a list
    of a million forms would only churn it)."""
    return _tokenised_words(form)


def _tokenised_words(form: str) -> tuple[str, ...]:
    """form_words of a form that is not plain. No token spans whitespace and no rule of the
    tokeniser looks past it, so each whitespace-separated chunk is split alone (a test holds every
    path equal to the tokeniser's)."""
    words: list[str] = []
    for chunk in form.split():
        words += _chunk_words(chunk)
    return tuple(words)


def _chunk_words(chunk: str) -> list[str]:
    """The folded words of one chunk without whitespace: the shapes of place names take short
    paths, any other goes through the tokeniser (its regex costs microseconds a chunk)."""
    if chunk.isascii():
        lowered = chunk.lower()
        if lowered.isalnum():
            return [lowered]
        if lowered.replace("-", "").isalnum():  # "baie-comeau": words between hyphens, each hyphen a token
            return [piece for piece in lowered.split("-") if piece]
        if lowered[:-1].isalnum() and lowered[-1] == ".":  # "st.", "ave.", "washington.": the period folds away
            return [lowered[:-1]]
        pieces = token_texts(lowered)  # an ASCII token's norm is its lowercase
        words = (piece.replace(".", "").replace("'", "") for piece in pieces if piece.strip(ASCII_PUNCTUATION))
    elif chunk.isalpha() and all(_is_latin_letter(character) for character in chunk):  # "zürich": one word
        return [chunk.translate(_latin_folds())]
    else:
        words = (fold(piece) for piece in token_texts(chunk) if not is_punctuation(piece))
    return [word for word in words if word]


@functools.cache
def _latin_folds() -> dict[int, str]:
    """fold of each Latin letter, for str.translate: a word of Latin letters folds letter by letter
    (lowercasing and NFKD act on each letter, and what is left after the marks are dropped has
    nothing NFC could compose), a test holds it for every letter and words of them."""
    ranges = (range(0x41, 0x5B), range(0x61, 0x7B), range(0xC0, 0x250), range(0x1E00, 0x1F00))
    return {
        code: fold(chr(code)) for codes in ranges for code in codes if chr(code).isalpha() and code not in (0xD7, 0xF7)
    }


def _is_latin_letter(character: str) -> bool:
    """Of a chunk of letters: one of the Latin script (ASCII, Latin-1, Latin Extended A, B and
    Additional), told by range: the tokeniser keeps a run of them one word."""
    return (
        character < "\x80"
        or ("\xc0" <= character < "\u0250" and character not in "\xd7\xf7")
        or "\u1e00" <= character <= "\u1eff"
    )


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
        if ALIAS_SEPARATOR in text:
            forms = tuple(form.strip() for form in text.split(ALIAS_SEPARATOR))
            for form in forms:
                if not has_words(form):
                    raise DataError(f"{where}:{number}: {form!r} has no word to match")
            entries.append(forms)
        elif has_words(text):
            entries.append((text,))
        else:
            raise DataError(f"{where}:{number}: {text!r} has no word to match")
    return entries


MAX_ENTRY_LINE_BYTES = 4096  # one value and its synonyms; a longer line is not a list (/dev/zero)
MAX_GAZETTEER_BYTES = 512 << 20


def _gazetteer_lines(path: Path) -> Iterator[str]:
    """The lines of a UTF-8 list file (a BOM accepted), read one at a time in bounded pieces: a line
    or a file past its limit, or bytes that are not UTF-8, stop with one line naming it, before it
    fills memory (a list of a million lines is never held as raw lines)."""
    total = 0
    try:
        with open(path, "rb") as handle:
            number = 0
            while line := handle.readline(MAX_ENTRY_LINE_BYTES + 1):
                number += 1
                total += len(line)
                if len(line) > MAX_ENTRY_LINE_BYTES and not line.endswith(b"\n"):
                    raise DataError(
                        f"{path}:{number}: a line of more than {MAX_ENTRY_LINE_BYTES} bytes is not a list entry"
                    )
                if total > MAX_GAZETTEER_BYTES:
                    raise DataError(
                        f"{path}: more than {MAX_GAZETTEER_BYTES >> 20} MB; a gazetteer file is one value per line"
                    )
                line = line.rstrip(b"\n")
                try:
                    yield (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).decode("utf-8")
                except UnicodeDecodeError as error:
                    raise DataError(
                        f"{path}:{number}: not UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})"
                    ) from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such gazetteer file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a gazetteer file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused, and restored after: reading a list of a million entries
    makes a million tuples, which the collector would walk again and again though they hold no cycle
    (about a fifth of loading one, measured by scripts/bench/gazetteer.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_gazetteer_file(path: Path) -> list[Entry]:
    """The entries of a UTF-8 gazetteer file (a BOM accepted). Raises DataError naming the file."""
    path = Path(path)
    with _collector_paused():
        entries = parse_entries(_gazetteer_lines(path), str(path))
    if not entries:
        raise DataError(f"{path}: no entries (a gazetteer file lists one value per line)")
    return entries


# the matcher: {form key: bits} over every list, where bit 0 says a longer form goes on from this
# key (it is a prefix of one: "new" of "new york") and bit k+1 that a form of list k ends here
_GOES_ON = 1


def _list_bit(index: int) -> int:
    return 1 << (index + 1)


def _merge_into(matcher: dict[str, int], ends: int, entries: Iterable[Entry]) -> Iterator[Entry]:
    """The entries with only their forms not yet in the lists `ends` of the matcher (an entry left
    with none is dropped), each form entered as it is kept, with its prefixes as going on. (The
    inner loop of loading a list: a million forms take a few seconds; written for that.)"""
    get = matcher.get
    for entry in entries:
        fresh = []
        for form in entry:
            key = form.lower() if form.isascii() and form.isalnum() else form_key(form)
            known = get(key, 0)
            if known & ends:
                continue
            matcher[key] = known | ends
            fresh.append(form)
            space = key.find(" ")
            while space != -1:
                prefix = key[:space]
                matcher[prefix] = get(prefix, 0) | _GOES_ON
                space = key.find(" ", space + 1)
        if fresh:
            yield entry if len(fresh) == len(entry) else tuple(fresh)


def merge_entries(*groups: Iterable[Entry]) -> tuple[Entry, ...]:
    """Entries of all groups in order, each value once: a form already listed (after folding) is dropped."""
    return tuple(_merge_into({}, _list_bit(0), itertools.chain.from_iterable(groups)))


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

    def __init__(
        self,
        gazetteers: Sequence[Gazetteer] = (),
        matcher: dict[str, int] | None = None,
        patterns: PatternSet = PatternSet(),
    ) -> None:
        """`matcher`: the lists' matcher where the caller has built it as it merged them (`updated`);
        `patterns`: the regular expressions read beside the lists, their features after the lists'."""
        if len(gazetteers) + len(patterns) > MAX_GAZETTEERS:
            raise ValueError(f"at most {MAX_GAZETTEERS} gazetteers and patterns together")
        self.gazetteers = tuple(gazetteers)
        self.patterns = patterns
        self.names = tuple(g.name for g in self.gazetteers)
        with _collector_paused():
            self._matcher = self._build_matcher() if matcher is None else matcher
        self._canonical: dict[str, dict[str, str]] = {}  # per list, built when first asked

    @property
    def num_features(self) -> int:
        return 2 * (len(self.gazetteers) + len(self.patterns))

    def __len__(self) -> int:
        return len(self.gazetteers)

    def __getitem__(self, name: str) -> Gazetteer:
        return self.gazetteers[self.names.index(name)]

    def _build_matcher(self) -> dict[str, int]:
        matcher: dict[str, int] = {}
        for index, gazetteer in enumerate(self.gazetteers):
            collections.deque(_merge_into(matcher, _list_bit(index), gazetteer.entries), maxlen=0)  # entered, not kept
        return matcher

    def features(self, words: Sequence[str]) -> list[int]:
        """One bitmask per word (model-view words): bit 2k begins a match of list k, 2k+1 is inside
        one; the patterns' bits follow the lists' (slotfill.features.patterns)."""
        if not self.gazetteers:
            return self.patterns.features(words, 0)
        folded = [fold(word) for word in words]
        bits = [0] * len(words)
        free_from = [0] * len(self.gazetteers)  # per list: where its next match may start
        for start in range(len(folded)):
            longest: dict[int, int] = {}  # list -> end of its longest match starting here
            key, end = folded[start], start + 1
            while (found := self._matcher.get(key)) is not None:
                lists = found >> 1
                while lists:
                    low = lists & -lists
                    longest[low.bit_length() - 1] = end
                    lists ^= low
                if not found & _GOES_ON or end == len(folded):
                    break
                key, end = f"{key} {folded[end]}", end + 1
            for index, match_end in longest.items():
                if start < free_from[index]:
                    continue
                bits[start] |= 1 << (2 * index)
                for inside in range(start + 1, match_end):
                    bits[inside] |= 1 << (2 * index + 1)
                free_from[index] = match_end
        if len(self.patterns):
            bits = [a | b for a, b in zip(bits, self.patterns.features(words, 2 * len(self.gazetteers)))]
        return bits

    def canonical(self, name: str, text: str) -> str | None:
        """The canonical form (an entry's first) of the entry of list `name` that has `text` as a
        form, matched as features match (folded); None when the list does not hold it."""
        forms = self._canonical.get(name)
        if forms is None:
            forms = {}
            for entry in self[name].entries:
                for form in entry:
                    forms.setdefault(form_key(form), entry[0])
            self._canonical[name] = forms
        return forms.get(form_key(text))

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
        if any(update.replace for update in updates):  # entries leave a list: its matcher is built anew
            for update in updates:
                entries[update.name] = (
                    merge_entries(update.entries)
                    if update.replace
                    else merge_entries(entries[update.name], update.entries)
                )
            return GazetteerSet(
                [Gazetteer(g.name, entries[g.name], g.source) for g in self.gazetteers], None, self.patterns
            )
        matcher = dict(self._matcher)  # entries only join lists: this set's matcher grows, each new form keyed once
        with _collector_paused():
            for update in updates:
                ends = _list_bit(self.names.index(update.name))
                entries[update.name] = entries[update.name] + tuple(_merge_into(matcher, ends, update.entries))
        return GazetteerSet(
            [Gazetteer(g.name, entries[g.name], g.source) for g in self.gazetteers], matcher, self.patterns
        )
