"""Training-time noise, drawn anew each epoch: slot values swapped for other values of a list, and
the courtesies people add to what they type.

- Value substitution: a model trained on ATIS has seen 56 cities; one that also sees "fly from
  Tórshavn to Denver" learns that the slot comes from the context and the gazetteer, not from
  memorised names. Every slot whose type a gazetteer claims (`gazetteers.NAME.slots`) is replaced,
  with probability `training.substitution`, by a form drawn uniformly from that list, its tags
  realigned (`B-x` then `I-x` for a multi-word value).
- Courtesy: with probability `training.courtesy` a sentence gets "please", "thanks", "hi", ... at
  its start or end, tagged `O`, so that "... on November 2nd please" keeps "2nd" a day number.

The draw depends only on the seed and the epoch, so a run repeats exactly and a resumed run sees
the same sentences as the uninterrupted one did.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from slotfill.data.example import Example
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import slot_type
from slotfill.text import bio
from slotfill.text.tokenise import is_punctuation, normalise, tokenise

COURTESY_START = ("please", "hi", "hello", "hey", "ok", "okay", "so", "um", "yes")
COURTESY_END = ("please", "thanks", "thank you", "thanks a lot", "thank you very much", "ok", "now")


# frequent English words: in English utterances (ATIS, SNIPS, the demo) a fifth to a third of the
# tokens; in German, Japanese or Chinese ones next to none
ENGLISH_WORDS = frozenset(
    "the to a an from i me my you it is are what show please thanks thank for of on at with and this that".split()
)
ENGLISH_SHARE = 0.1


def speaks_courtesies(examples: Iterable[Example]) -> bool:
    """True when the training data is English, by its own words: at least ENGLISH_SHARE of its tokens
    are frequent English words. The courtesies are English; added to German or Japanese sentences
    they would teach the model words its users do not say."""
    english = total = 0
    for example in examples:
        total += len(example.tokens)
        english += sum(normalise(token) in ENGLISH_WORDS for token in example.tokens)
    return total > 0 and english >= ENGLISH_SHARE * total


class Augmentation:
    def __init__(
        self,
        seed: int,
        *,
        substitution: float = 0.0,
        gazetteers: GazetteerSet = GazetteerSet(),
        list_of_slot: Mapping[str, str] | None = None,
        courtesy: float = 0.0,
    ) -> None:
        """`list_of_slot` maps a slot type (`city_name`) to the gazetteer its values come from."""
        self.seed, self.substitution, self.courtesy = seed, substitution, courtesy
        self.list_of_slot = dict(list_of_slot or {})
        self.values: dict[str, list[tuple[str, ...]]] = {}  # list name -> token tuples of every form
        for name in set(self.list_of_slot.values()):
            forms = (form for entry in gazetteers[name].entries for form in entry)
            tokenised = (tuple(t.text for t in tokenise(form) if not is_punctuation(t.text)) for form in forms)
            self.values[name] = [tokens for tokens in tokenised if tokens]

    def examples_for_epoch(self, examples: Sequence[Example], epoch: int) -> list[Example]:
        rng = random.Random(f"slotfill-augmentation/{self.seed}/{epoch}")  # str seeds hash the same in every process
        return [self._courtesy(self._substitute(example, rng), rng) for example in examples]

    def _courtesy(self, example: Example, rng: random.Random) -> Example:
        if not self.courtesy or rng.random() >= self.courtesy:
            return example
        at_start = rng.random() < 0.5
        words = tuple(rng.choice(COURTESY_START if at_start else COURTESY_END).split())
        outside = ("O",) * len(words)
        if at_start:
            return replace(example, tokens=words + example.tokens, tags=outside + example.tags, text=None)
        return replace(example, tokens=example.tokens + words, tags=example.tags + outside, text=None)

    def _substitute(self, example: Example, rng: random.Random) -> Example:
        if not self.substitution:
            return example
        tokens: list[str] = []
        tags: list[str] = []
        position = 0
        for span in bio.spans(example.tags):
            name = self.list_of_slot.get(slot_type(span.label))
            if name is None or rng.random() >= self.substitution:
                continue
            value = rng.choice(self.values[name])
            tokens += example.tokens[position : span.start]
            tags += example.tags[position : span.start]
            tokens += value
            tags += bio.tags_from_spans([bio.Span(span.label, 0, len(value))], len(value))
            position = span.end
        if position == 0:
            return example
        tokens, tags = tuple(tokens) + example.tokens[position:], tuple(tags) + example.tags[position:]
        return replace(example, tokens=tokens, tags=tags, text=None)


def substitution_lists(sources: Mapping[str, object]) -> dict[str, str]:
    """Slot type -> gazetteer name, from the config's `gazetteers.NAME.slots`."""
    return {slot: name for name, source in sources.items() for slot in source.slots}
