"""Word inputs: a learned table, a 1-of-N code, or letter trigrams (word hashing), plus the char CNN.

- ``learned``: an embedding table, one vector per vocabulary word;
- ``one_hot``: the 1-of-N code itself (size = vocabulary), the UNK entry standing for every unseen word;
- ``letter_trigram``: "apple" -> #ap app ppl ple le#; the word is the sum of its trigrams' vectors
  (a linear map of the bag of trigrams), so unseen words still get a vector.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from slotfill.choices import EMBEDDING_KINDS
from slotfill.features.vocab import PAD_ID


class WordInput(nn.Module):
    """Token ids (B, L) (and, for trigrams, the batch's distinct words) -> (B, L, output_size)."""

    def __init__(self, kind: str, num_words: int, num_trigrams: int, dim: int) -> None:
        super().__init__()
        if kind not in EMBEDDING_KINDS:
            raise ValueError(f"unknown embedding kind {kind!r}")
        self.kind, self.num_words = kind, num_words
        if kind == "learned":
            self.table = nn.Embedding(num_words, dim, padding_idx=PAD_ID)
            self.output_size = dim
        elif kind == "one_hot":
            self.output_size = num_words
        else:
            self.trigrams = nn.EmbeddingBag(num_trigrams, dim, mode="sum", padding_idx=PAD_ID)
            self.output_size = dim

    def forward(self, word_ids: Tensor, trigram_ids: Tensor, type_index: Tensor, dropped: Tensor | None) -> Tensor:
        """word_ids (B, L); trigram_ids (U, K) for the U distinct words; type_index (B, L) into U;
        dropped (B, L) bool: tokens replaced by the unknown word (word dropout) or None."""
        if self.kind == "learned":
            return self.table(word_ids)  # (B, L, E); word_ids already carry the dropout
        if self.kind == "one_hot":
            return nn.functional.one_hot(word_ids, self.num_words).float()  # (B, L, V)
        per_word = self.trigrams(trigram_ids)  # (U, E)
        vectors = per_word.index_select(0, type_index.flatten()).view(*type_index.shape, -1)  # (B, L, E)
        if dropped is not None:
            vectors = vectors.masked_fill(dropped.unsqueeze(2), 0.0)
        return vectors


class CharCNN(nn.Module):
    """Characters of a word -> one vector: embedding, convolution, max over the word's characters.

    The convolution is written as windows of `kernel_size` characters (one centred on each
    character) through one linear layer: the same function as a padded Conv1d."""

    def __init__(self, num_chars: int, char_dim: int, filters: int, kernel_size: int) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("the character kernel size must be odd (one output per character)")
        self.output_size, self.kernel_size = filters, kernel_size
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=PAD_ID)
        self.conv = nn.Linear(char_dim * kernel_size, filters)

    def forward(self, char_ids: Tensor) -> Tensor:  # (U, W) -> (U, F)
        half = self.kernel_size // 2
        padded = nn.functional.pad(char_ids, (half, half), value=PAD_ID)  # (U, W + k - 1)
        embedded = self.embedding(padded)  # (U, W + k - 1, C)
        windows = embedded.unfold(1, self.kernel_size, 1)  # (U, W, C, k): one window centred on each char
        return pool_characters(torch.relu(self.conv(windows.flatten(2))), char_ids)  # (U, W, F) -> (U, F)


def pool_characters(features: Tensor, char_ids: Tensor) -> Tensor:
    """(U, W, F) per-character features -> (U, F): the max over each word's own characters only
    (the result must not depend on the batch's padding); the padding word gets zeros."""
    is_char = (char_ids != PAD_ID).unsqueeze(2)  # (U, W, 1)
    pooled = features.masked_fill(~is_char, float("-inf")).max(dim=1).values  # (U, F)
    return pooled.masked_fill(~is_char.any(dim=1), 0.0)
