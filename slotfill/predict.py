"""Tag tokenised or raw sentences with a trained tagger; ids become labels here, at the edge.

Punctuation tokens are not shown to the model: they are tagged `O`, or `I-x` between two tokens
of one slot (bio.fill_skipped), so they never start a slot and never change another token's tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from slotfill import bio
from slotfill.batching import LengthBucketSampler, encode
from slotfill.device import resolve_device
from slotfill.gazetteer import GazetteerSet, GazetteerUpdate
from slotfill.model import Tagger
from slotfill.model_dir import LoadedModel, load_model
from slotfill.text import Token, is_punctuation, tokenise
from slotfill.vocab import Vocab


@dataclass(frozen=True)
class Limits:
    """The most one utterance may hold; a longer one gets `{"error": ...}` instead of a parse."""

    max_chars: int = 100_000
    max_tokens: int = 5_000


@dataclass(frozen=True)
class Tagged:
    tags: list[str]
    intent: str | None
    intent_confidence: float | None


def tag_token_lists(
    tagger: Tagger,
    vocab: Vocab,
    token_lists: Sequence[Sequence[str]],
    device: torch.device,
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
) -> list[Tagged]:
    """Tags (and intent) for each tokenised sentence, in input order; a sentence with no token
    but punctuation gets `O` tags and no intent."""
    shown = [[i for i, token in enumerate(tokens) if not is_punctuation(token)] for tokens in token_lists]
    results: list[Tagged | None] = [None] * len(token_lists)
    nonempty = [i for i, positions in enumerate(shown) if positions]
    corpus = encode([[token_lists[i][p] for p in shown[i]] for i in nonempty], vocab, gazetteers)
    was_training = tagger.training
    if was_training:  # switching modes walks every submodule: not on the prediction hot path
        tagger.eval()
    try:
        for batch_indices in LengthBucketSampler(corpus.lengths(), batch_size):
            batch = corpus.collate([corpus[i] for i in batch_indices]).to(device)
            decoded = tagger.decode(batch)
            for row, index in enumerate(batch_indices):
                intent = confidence = None
                if decoded.intent_ids is not None and decoded.intent_confidences is not None:
                    intent = vocab.intents.items[decoded.intent_ids[row]]
                    confidence = decoded.intent_confidences[row]
                sentence = nonempty[index]
                shown_tags = [vocab.tags.items[t] for t in decoded.tag_ids[row]]
                tags = bio.fill_skipped(shown_tags, shown[sentence], len(token_lists[sentence]))
                results[sentence] = Tagged(tags, intent, confidence)
    finally:
        if was_training:
            tagger.train()
    return [r if r is not None else Tagged(["O"] * len(tokens), None, None) for r, tokens in zip(results, token_lists)]


class Predictor:
    """Raw text in, slots out: `{"text", "tokens", "tags", "slots", "intent", "intent_confidence"}`."""

    def __init__(
        self,
        loaded: LoadedModel,
        batch_size: int = 256,
        gazetteers: Iterable[GazetteerUpdate] = (),
        limits: Limits = Limits(),
    ) -> None:
        self.loaded, self.batch_size, self.limits = loaded, batch_size, limits
        self.has_intent = loaded.tagger.intent_head is not None
        self.gazetteers = loaded.gazetteers.updated(gazetteers)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        device: str = "auto",
        batch_size: int = 256,
        gazetteers: Iterable[GazetteerUpdate] = (),
        limits: Limits = Limits(),
    ) -> Predictor:
        """`gazetteers`: entries to add to the model's lists (or replace them with), e.g.
        `[GazetteerUpdate.from_spec("city=new_cities.txt")]`; the model is not retrained."""
        return cls(load_model(model_dir, resolve_device(device)), batch_size, gazetteers, limits)

    def limit_error(self, text: str) -> str | None:
        """Why `text` is too long to tag, or None."""
        return self._tokens_within_limits(text)[1]

    def _tokens_within_limits(self, text: str) -> tuple[list[Token], str | None]:
        """The tokens of `text`, or why it is too long (then never tokenised past the limit)."""
        limits = self.limits
        if len(text) > limits.max_chars:
            return [], f"{len(text):,} characters; the limit is {limits.max_chars:,}"
        tokens = tokenise(text, limits.max_tokens + 1)
        if len(tokens) > limits.max_tokens:
            return [], f"more than {limits.max_tokens:,} tokens; the limit is {limits.max_tokens:,}"
        return tokens, None

    def update_gazetteers(self, updates: Iterable[GazetteerUpdate]) -> None:
        """Add entries to (or replace) the model's lists from now on."""
        self.gazetteers = self.gazetteers.updated(updates)

    def parse(self, text: str) -> dict[str, Any]:
        return next(self.parse_many([text]))

    def parse_many(self, texts: Iterable[str], chunk_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Parse a stream of texts chunk by chunk (constant memory), yielding in input order. A line
        ending ("\n", "\r\n") is not part of a text: `parse_many(open(path))` gives what
        `slotfill predict --input path` prints."""
        chunk_size = chunk_size or self.batch_size * 8
        chunk: list[str] = []
        for text in texts:
            chunk.append(text.removesuffix("\n").removesuffix("\r"))
            if len(chunk) == chunk_size:
                yield from self._parse_chunk(chunk)
                chunk = []
        if chunk:
            yield from self._parse_chunk(chunk)

    def _parse_chunk(self, texts: list[str]) -> Iterator[dict[str, Any]]:
        """Parses in input order; a text over the limits gets `{"error": ...}` in its place."""
        checked = [self._tokens_within_limits(text) for text in texts]
        token_lists = [[t.norm for t in tokens] for tokens, error in checked if error is None]
        loaded = self.loaded
        tagged = iter(
            tag_token_lists(
                loaded.tagger, loaded.vocab, token_lists, loaded.device, self.batch_size, gazetteers=self.gazetteers
            )
        )
        for text, (tokens, error) in zip(texts, checked):
            yield {"error": error} if error is not None else self._parsed(text, tokens, next(tagged))

    def _parsed(self, text: str, tokens: list[Token], result: Tagged) -> dict[str, Any]:
        slots = []
        for span in bio.spans(result.tags):
            start, end = tokens[span.start].start, tokens[span.end - 1].end
            slots.append({"slot": span.label, "text": text[start:end], "start": start, "end": end})
        parsed: dict[str, Any] = {"text": text, "tokens": [t.text for t in tokens], "tags": result.tags, "slots": slots}
        if self.has_intent:
            parsed["intent"] = result.intent
            parsed["intent_confidence"] = (
                None if result.intent_confidence is None else round(result.intent_confidence, 4)
            )
        return parsed
