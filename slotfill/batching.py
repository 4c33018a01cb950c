"""Sentences to padded tensors with torch.utils.data (Dataset, Sampler); no torchtext.

Characters are looked up once per distinct word (word type) of a batch, not once per token: a batch
holds `char_ids` and `trigram_ids` for its U distinct words and `type_index` pointing every token at
its word's row. An encoded sentence's `type_index` points into the corpus's tables the same way.
Sentences arrive as the model sees them: punctuation already left out (slotfill.text.is_punctuation).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from slotfill.data import Example
from slotfill.gazetteer import GazetteerSet
from slotfill.text import normalise
from slotfill.vocab import PAD_ID, Vocab, letter_trigrams

MAX_WORD_CHARS = 24  # longer words keep their first 24 characters for the char encoder


class Batch(NamedTuple):
    word_ids: Tensor  # (B, L) long, PAD_ID past each length
    char_ids: Tensor  # (U, W) long: characters of the batch's U distinct words
    type_index: Tensor  # (B, L) long: row of char_ids (and trigram_ids) for each token
    trigram_ids: Tensor  # (U, K) long: letter trigrams of the batch's U distinct words
    lengths: Tensor  # (B,) long, on the CPU (pack_padded_sequence wants it there)
    gazetteer_features: Tensor  # (B, L, G) float: BIO membership of each token in each list (G may be 0)
    tag_ids: Tensor | None = None  # (B, L) long, gold tags (training only)
    intent_ids: Tensor | None = None  # (B,) long, gold intents (training only)

    @property
    def mask(self) -> Tensor:  # (B, L) bool
        return self.word_ids != PAD_ID

    def to(self, device: torch.device) -> Batch:
        moved = (t.to(device, non_blocking=True) if t is not None else None for t in self)
        batch = Batch(*moved)
        return batch._replace(lengths=self.lengths)


@dataclass(frozen=True)
class EncodedSentence:
    word_ids: list[int]  # (L,)
    type_index: list[int]  # (L,) each token's word type: its row of the corpus's char and trigram tables
    gazetteer_bits: list[int]  # (L,) bit 2k: begins a match of list k; bit 2k+1: inside one
    tag_ids: list[int] | None  # (L,)
    intent_id: int | None


def _padded(rows: Sequence[Sequence[int]], width: int) -> Tensor:
    """One (len(rows), width) long tensor, zero-padded: a single torch.tensor call."""
    return torch.tensor([list(row) + [PAD_ID] * (width - len(row)) for row in rows], dtype=torch.long)


class EncodedCorpus(Dataset[EncodedSentence]):
    """Sentences encoded once; `char_table` (N, W) and `trigram_table` (N, K) hold the characters
    and letter trigrams of the N distinct words."""

    def __init__(
        self, sentences: list[EncodedSentence], char_table: Tensor, trigram_table: Tensor, num_gazetteer_features: int
    ) -> None:
        self.sentences, self.char_table, self.trigram_table = sentences, char_table, trigram_table
        self.feature_bits = torch.arange(num_gazetteer_features)  # (G,)

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> EncodedSentence:
        return self.sentences[index]

    def lengths(self) -> list[int]:
        return [len(s.word_ids) for s in self.sentences]

    def collate(self, sentences: Sequence[EncodedSentence]) -> Batch:
        lengths = [len(s.word_ids) for s in sentences]
        longest = max(lengths)
        word_ids = _padded([s.word_ids for s in sentences], longest)  # (B, L)
        corpus_types = _padded(
            [s.type_index for s in sentences], longest
        )  # (B, L) rows of the corpus tables, 0: padding
        distinct, type_index = torch.unique(
            corpus_types, return_inverse=True
        )  # (U,), (B, L) rows of the batch's U words
        char_ids = self.char_table[distinct]  # (U, MAX_WORD_CHARS)
        width = max(1, int((char_ids != PAD_ID).sum(1).max()))
        char_ids = char_ids[:, :width]  # (U, W)
        trigram_ids = self.trigram_table[distinct][:, :width]  # (U, K): a word has as many trigrams as chars
        bits = _padded([s.gazetteer_bits for s in sentences], longest)  # (B, L)
        gazetteer_features = ((bits.unsqueeze(2) >> self.feature_bits) & 1).float()  # (B, L, G)
        tag_ids = intent_ids = None
        if sentences[0].tag_ids is not None:
            tag_ids = _padded([s.tag_ids or [] for s in sentences], longest)
        if sentences[0].intent_id is not None:
            intent_ids = torch.tensor([s.intent_id for s in sentences])
        return Batch(
            word_ids, char_ids, type_index, trigram_ids, torch.tensor(lengths), gazetteer_features, tag_ids, intent_ids
        )


def encode(
    token_lists: Sequence[Sequence[str]],
    vocab: Vocab,
    gazetteers: GazetteerSet,
    examples: Sequence[Example] | None = None,
) -> EncodedCorpus:
    """Encode tokenised sentences (each non-empty, without punctuation). With `examples`, gold tags
    and intents are encoded too; every one must be in the vocabulary (true of the training set)."""
    type_of: dict[str, int] = {"": 0}  # type 0: the padding word, no characters
    word_id, sentences = vocab.words.get, []
    for i, tokens in enumerate(token_lists):
        words = [normalise(token) for token in tokens]
        type_index = [type_of.setdefault(w, len(type_of)) for w in words]
        tag_ids, intent_id = None, None
        if examples is not None:
            tag_ids = [vocab.tags[t] for t in examples[i].tags]
            if len(vocab.intents) and examples[i].intent is not None:
                intent_id = vocab.intents[examples[i].intent]
        bits = gazetteers.features(words)
        sentences.append(EncodedSentence([word_id(w) for w in words], type_index, bits, tag_ids, intent_id))
    clipped = [word[:MAX_WORD_CHARS] for word in type_of]  # in row order (dicts keep insertion order)
    char_table = _padded([[vocab.chars.get(c) for c in word] for word in clipped], MAX_WORD_CHARS)
    trigram_table = _padded(
        [[vocab.trigrams.get(t) for t in letter_trigrams(w)] if w else [] for w in clipped], MAX_WORD_CHARS
    )
    return EncodedCorpus(sentences, char_table, trigram_table, gazetteers.num_features)


class LengthBucketSampler(Sampler[list[int]]):
    """Batches of similar length (less padding): shuffle, sort within pools of 50 batches by
    length, cut into batches, shuffle the batches. Without a generator: in order, no shuffling."""

    def __init__(self, lengths: Sequence[int], batch_size: int, generator: torch.Generator | None = None) -> None:
        self.lengths, self.batch_size, self.generator = list(lengths), batch_size, generator

    def __len__(self) -> int:
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.lengths)
        if self.generator is None:
            order = sorted(range(n), key=self.lengths.__getitem__)
            yield from (order[i : i + self.batch_size] for i in range(0, n, self.batch_size))
            return
        order = torch.randperm(n, generator=self.generator).tolist()
        pool = self.batch_size * 50
        batches = []
        for p in range(0, n, pool):
            chunk = sorted(order[p : p + pool], key=self.lengths.__getitem__)
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b]
