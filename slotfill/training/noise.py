"""Out-of-scope utterances made up for training, the way Snips NLU trains its None intent: the
frequent words of the training data's language (wordfreq's lists), in random order, as many as
a training utterance has. A model that has only ever seen its own intents answers anything with one
of them, and confidently ("thanks" as a flight question); one that has also seen these learns an
out-of-scope class: what carries none of its intents' words and phrasings is none of them.

The language is the one of wordfreq's whose most frequent words cover most of the training tokens
(English for ATIS and SNIPS, German for xSID's German); data in a language wordfreq does not know
gets no noise, with a warning. The draw depends only on the seed, so a run repeats exactly.

Fluent noise (`out_of_scope.fluent`, a share of the noise) keeps a training utterance's shape and
removes its meaning: its words among the language's FUNCTION_WORDS most frequent stay (unless they
are slot words), every other word becomes a frequent word the training data never uses, so "show me
flights from boston to denver" may become "garage me works from user to mine". Word salad is
easy to tell from a request; this teaches the model that the phrasing of its requests without
their content words is none of its intents.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

from slotfill.data.example import Example
from slotfill.errors import ConfigError
from slotfill.text.tokenise import is_punctuation, normalise, tokenise

NOISE_WORDS = 5000  # the language's most frequent words the noise is drawn from
FUNCTION_WORDS = 100  # the most frequent words fluent noise keeps in place ("me", "from", "to", "the")
PROBE_WORDS = 300  # the most frequent words a language is recognised by
MIN_COVERAGE = 0.05  # the share of training tokens a language's frequent words must cover to be it


@lru_cache(maxsize=64)
def _frequent(language: str, count: int) -> tuple[str, ...]:
    from wordfreq import top_n_list

    return tuple(top_n_list(language, count))


def _wordfreq() -> object:
    try:
        import wordfreq
    except ImportError:
        raise ConfigError(
            "out_of_scope.noise: making noise utterances needs wordfreq: pip install 'slotfill[train]' "
            "(or set out_of_scope.noise: 0)"
        ) from None
    return wordfreq


def training_language(examples: Sequence[Example]) -> str | None:
    """The wordfreq language whose PROBE_WORDS most frequent words cover the most training tokens
    (None: none covers MIN_COVERAGE of them)."""
    wordfreq = _wordfreq()
    tokens = [normalise(token) for example in examples for token in example.tokens]
    if not tokens:
        return None
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    coverage = {}
    for language in sorted(wordfreq.available_languages(wordlist="small")):  # type: ignore[attr-defined]
        frequent = set(_frequent(language, PROBE_WORDS))
        coverage[language] = sum(n for token, n in counts.items() if token in frequent) / len(tokens)
    best = max(coverage, key=lambda language: (coverage[language], language))
    return best if coverage[best] >= MIN_COVERAGE else None


def noise_examples(
    train: Sequence[Example], label: str, count: int, language: str, seed: int, fluent: float = 0.0
) -> list[Example]:
    """`count` utterances, intent `label`, tokenised as slotfill tokenises what people type: the
    first `count - round(count * fluent)` random frequent words of `language`, each as long as a
    training utterance drawn at random; the rest fluent (see the module's notes)."""
    words = [w for w in _frequent(language, NOISE_WORDS) if not is_punctuation(w)]
    lengths = [len(example.tokens) for example in train]
    rng = random.Random(seed)
    fluent_count = round(count * fluent)
    salad = [
        _example(rng.choices(words, k=rng.choice(lengths)), label, rng, words) for _ in range(count - fluent_count)
    ]
    if fluent_count == 0:
        return salad
    function = set(_frequent(language, FUNCTION_WORDS))
    seen = {normalise(token) for example in train for token in example.tokens}
    # one token each, so that a fluent utterance keeps its source's length and word order
    unseen = [w for w in words if w not in seen and len(tokenise(w)) == 1] or words
    shaped = []
    for _ in range(fluent_count):
        example = rng.choice(train)
        kept = [normalise(token) in function and tag == "O" for token, tag in zip(example.tokens, example.tags)]
        shaped.append([token if keep else rng.choice(unseen) for token, keep in zip(example.tokens, kept)])
    return salad + [_example(chosen, label, rng, words) for chosen in shaped]


def _example(chosen: list[str], label: str, rng: random.Random, words: list[str]) -> Example:
    """The words as slotfill tokenises them once typed, punctuation left out; all O."""
    tokens = [t.text for t in tokenise(" ".join(chosen))]
    tokens = [token for token in tokens if not is_punctuation(token)] or [rng.choice(words)]
    return Example(tuple(tokens), ("O",) * len(tokens), label)
