"""Vocabularies: words, characters, letter trigrams, slot tags and intents, each a list saved as JSON.

With pretrained word vectors (model.embedding.vectors), `vectors` holds the words of the kept
rows and `vector_dim` their width: the word -> row index of the table the model stores.

Words, characters, trigrams and vectors have two reserved entries: PAD (id 0) and UNK (id 1), the "other" entry of a
1-of-N code that every unseen word maps to. Tags and intents have none: an unseen label at
evaluation time is compared as a string and simply counts as wrong.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from slotfill.data.example import Example
from slotfill.errors import ModelError
from slotfill.files import atomic_write_text
from slotfill.text.bio import is_bio_tag
from slotfill.text.tokenise import KNOWN_TOKENISATIONS, TOKENISATION, normalise


def slot_names(tags: Sequence[str]) -> list[str]:
    """The slot types of a tag list, in its order, once each ("B-time", "I-time" -> "time")."""
    return list(dict.fromkeys(tag[2:] for tag in tags if tag != "O"))


def letter_trigrams(word: str) -> list[str]:
    """Letter trigrams of `#word#` ("apple" -> #ap, app, ppl, ple, le#): word hashing."""
    marked = f"#{word}#"
    return [marked[i : i + 3] for i in range(len(marked) - 2)]


PAD, UNK = "<pad>", "<unk>"
_KEYS = ("words", "chars", "tags", "intents", "trigrams")
PAD_ID, UNK_ID = 0, 1


class Index:
    """A bijection between strings and ids, in a fixed order."""

    def __init__(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self.ids = {item: i for i, item in enumerate(self.items)}
        if len(self.ids) != len(self.items):
            raise ValueError("vocabulary entries must be unique")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: str) -> int:
        return self.ids[item]

    def __contains__(self, item: object) -> bool:
        return item in self.ids

    def get(self, item: str, default: int = UNK_ID) -> int:
        return self.ids.get(item, default)


@dataclass
class Vocab:
    words: Index
    chars: Index
    tags: Index
    intents: Index
    trigrams: Index
    vectors: Index | None = None  # words of the pretrained vectors' rows (PAD, UNK, then row 2 on)
    vector_dim: int = 0
    # the tokenisation rules its words were made with, and its model tags with (slotfill.text.tokenise):
    # 4 for every new vocabulary; a vocab.json without the key was written under rules 1
    tokenisation: int = TOKENISATION
    # the slot names the model reads as requested by the system (its dialogue context; empty: it reads
    # none, as every model before 0.5): its slot types in tag order, then the other names its training
    # data requests (a system asks for slots a dataset does not annotate: "how many travelers?")
    requested: Index = field(default_factory=lambda: Index([]))

    def with_requested(self, requested: Iterable[str] = ()) -> Vocab:
        """This vocabulary reading as requested slots its slot types and the names `requested`."""
        types = slot_names(self.tags.items)
        return replace(self, requested=Index([*types, *sorted(set(requested) - set(types))]))

    def with_vectors(self, words: Sequence[str], dim: int) -> Vocab:
        """This vocabulary with the index of pretrained vectors for `words` (folded, distinct), `dim` wide."""
        return replace(self, vectors=Index([PAD, UNK, *words]), vector_dim=dim)

    @classmethod
    def build(cls, examples: Iterable[Example], *, min_freq: int = 1, extra_tags: Iterable[str] = ()) -> Vocab:
        """From training examples; words seen fewer than `min_freq` times map to UNK. `extra_tags`
        joins the tag set (the I- tags that value substitution can create)."""
        word_counts: Counter[str] = Counter()
        char_counts: Counter[str] = Counter()
        trigram_counts: Counter[str] = Counter()
        tags: set[str] = set()
        intents: set[str] = set()
        for example in examples:
            for token in example.tokens:
                word = normalise(token)
                word_counts[word] += 1
                char_counts.update(word)
                trigram_counts.update(letter_trigrams(word))
            tags.update(example.tags)
            if example.intent is not None:
                intents.add(example.intent)
        # most frequent first, ties alphabetical: the same data gives the same ids
        words = [w for w, n in sorted(word_counts.items(), key=lambda wn: (-wn[1], wn[0])) if n >= min_freq]
        chars = sorted(char_counts, key=lambda c: (-char_counts[c], c))
        tags.update(extra_tags)
        tags.add("O")
        tag_list = ["O"] + sorted(tags - {"O"}, key=lambda t: (t[2:], t))  # B-x next to I-x
        trigrams = sorted(trigram_counts, key=lambda t: (-trigram_counts[t], t))
        return cls(
            Index([PAD, UNK, *words]),
            Index([PAD, UNK, *chars]),
            Index(tag_list),
            Index(sorted(intents)),
            Index([PAD, UNK, *trigrams]),
        )

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {name: getattr(self, name).items for name in _KEYS}
        if self.vectors is not None:
            payload["vectors"] = {"dim": self.vector_dim, "words": self.vectors.items}
        payload["tokenisation"] = self.tokenisation
        if len(self.requested):
            payload["requested_slots"] = self.requested.items
        return payload

    @classmethod
    def from_json(cls, payload: object, source: str = "vocab.json") -> Vocab:
        if not isinstance(payload, dict) or not all(isinstance(payload.get(k), list) for k in _KEYS):
            raise ModelError(f"{source}: expected an object with lists {', '.join(_KEYS)}")
        for key in _KEYS:
            bad = next((item for item in payload[key] if not isinstance(item, str) or not item), None)
            if bad is not None:
                raise ModelError(f"{source}: {key}: {bad!r} is not a non-empty string")
        bad_tag = next((tag for tag in payload["tags"] if not is_bio_tag(tag)), None)
        if bad_tag is not None:
            raise ModelError(f"{source}: tags: {bad_tag!r} is not a BIO tag (O, B-x or I-x)")
        vectors, dim = _vector_index(payload.get("vectors"), source)
        rules = payload.get("tokenisation", 1)
        if rules not in KNOWN_TOKENISATIONS or isinstance(rules, bool):
            raise ModelError(
                f"{source}: tokenisation {rules!r}: written by a newer slotfill (this one tokenises by rules "
                f"{', '.join(map(str, KNOWN_TOKENISATIONS))}): upgrade slotfill to use this model"
            )
        requested = payload.get("requested_slots", [])
        if not isinstance(requested, list) or not all(isinstance(name, str) and name for name in requested):
            raise ModelError(f"{source}: requested_slots: expected a list of slot names")
        try:
            vocab = cls(
                *(Index(payload[k]) for k in _KEYS),
                vectors=vectors, vector_dim=dim, tokenisation=rules, requested=Index(requested),
            )  # fmt: skip
        except ValueError as error:
            raise ModelError(f"{source}: {error}") from None
        for name in ("words", "chars", "trigrams", "vectors"):
            if getattr(vocab, name) is not None and getattr(vocab, name).items[:2] != [PAD, UNK]:
                raise ModelError(f"{source}: {name} must start with {PAD} and {UNK}")
        return vocab

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, indent=0) + "\n")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelError(f"{path}: cannot read vocabulary ({error})") from None


def _vector_index(entry: object, source: str) -> tuple[Index | None, int]:
    """The `vectors` entry of vocab.json (absent before pretrained vectors existed)."""
    if entry is None:
        return None, 0
    words = entry.get("words") if isinstance(entry, dict) else None
    dim = entry.get("dim") if isinstance(entry, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise ModelError(f"{source}: vectors: expected {{dim, words}} with a list of non-empty words")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        raise ModelError(f"{source}: vectors: dim {dim!r} is not a positive integer")
    try:
        return Index(words), dim
    except ValueError as error:
        raise ModelError(f"{source}: vectors: {error}") from None
