"""Training batches with torch.utils.data (Dataset, Sampler); no torchtext. The arrays come from
slotfill.features.arrays (torch-free, shared with the exported model); here they become tensors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from slotfill.data.example import Example
from slotfill.features.arrays import (
    EncodedSentence,
    EncodedSentences,
    FeatureArrays,
    TransformerFeaturesFn,
    batches_by_length,
    encode_sentences,
)
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import PAD_ID, Vocab
from slotfill.features.wordpieces import PieceReader


class Batch(NamedTuple):
    """The tensors of slotfill.features.arrays.FeatureArrays (same fields, same shapes)."""

    word_ids: Tensor  # (B, L) long, PAD_ID past each length
    char_ids: Tensor  # (U, W) long: characters of the batch's U distinct words
    type_index: Tensor  # (B, L) long: row of char_ids (and trigram_ids) for each token
    trigram_ids: Tensor  # (U, K) long: letter trigrams of the batch's U distinct words
    lengths: Tensor  # (B,) long, on the CPU (pack_padded_sequence wants it there)
    gazetteer_features: Tensor  # (B, L, G) float: BIO membership of each token in each list (G may be 0)
    vector_ids: Tensor  # (U,) long: each distinct word's row of the pretrained vectors (UNK_ID: none)
    tag_ids: Tensor | None = None  # (B, L) long, gold tags (training only)
    intent_ids: Tensor | None = None  # (B,) long, gold intents (training only)
    transformer_features: Tensor | None = None  # (B, L, H) float: a transformer's, where the model has one
    piece_ids: Tensor | None = None  # (R, P) long: a fine-tuned transformer's windows of word pieces (training)
    piece_mask: Tensor | None = None  # (R, P) long
    piece_index: Tensor | None = None  # (B, L, K) long: the (R * P) piece states each token pools
    piece_weight: Tensor | None = None  # (B, L, K) float
    requested: Tensor | None = None  # (B, R) float: the slots the system requested (dialogue context)

    @classmethod
    def from_arrays(cls, arrays: FeatureArrays) -> Batch:
        return cls(*(torch.from_numpy(a) if a is not None else None for a in arrays))

    @property
    def mask(self) -> Tensor:  # (B, L) bool
        return self.word_ids != PAD_ID

    def to(self, device: torch.device) -> Batch:
        moved = (t.to(device, non_blocking=True) if t is not None else None for t in self)
        batch = Batch(*moved)
        return batch._replace(lengths=self.lengths)


class EncodedCorpus(EncodedSentences, Dataset[EncodedSentence]):
    """Encoded sentences as a torch Dataset whose batches are tensors."""

    def collate(self, sentences: Sequence[EncodedSentence]) -> Batch:
        return Batch.from_arrays(self.arrays(sentences))


def encode(
    token_lists: Sequence[Sequence[str]],
    vocab: Vocab,
    gazetteers: GazetteerSet,
    examples: Sequence[Example] | None = None,
    transformer_features: TransformerFeaturesFn | None = None,
    piece_reader: PieceReader | None = None,
) -> EncodedCorpus:
    """slotfill.features.arrays.encode_sentences, as a torch Dataset (each example's context read)."""
    encoded = encode_sentences(token_lists, vocab, gazetteers, examples, transformer_features, piece_reader)
    return EncodedCorpus(
        encoded.sentences, encoded.char_table, encoded.trigram_table, encoded.vector_table,
        gazetteers.num_features, piece_reader, encoded.num_requested,
    )  # fmt: skip


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
            yield from batches_by_length(self.lengths, self.batch_size)
            return
        order = torch.randperm(n, generator=self.generator).tolist()
        pool = self.batch_size * 50
        batches = []
        for p in range(0, n, pool):
            chunk = sorted(order[p : p + pool], key=self.lengths.__getitem__)
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b]
