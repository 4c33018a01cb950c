"""Word inputs: a learned table, a 1-of-N code, or letter trigrams (word hashing), plus the char CNN.

- ``learned``: an embedding table, one vector per vocabulary word;
- ``one_hot``: the 1-of-N code itself (size = vocabulary), the UNK entry standing for every unseen word;
- ``letter_trigram``: "apple" -> #ap app ppl ple le#; the word is the sum of its trigrams' vectors
  (a linear map of the bag of trigrams), so unseen words still get a vector.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from slotfill.vocab import PAD_ID

EMBEDDING_KINDS = ("learned", "one_hot", "letter_trigram")


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

    def forward(self, word_ids: Tensor, trigram_ids: Tensor, word_index: Tensor, dropped: Tensor | None) -> Tensor:
        """word_ids (B, L); trigram_ids (U, K) for the U distinct words; word_index (B, L) into U;
        dropped (B, L) bool: tokens replaced by the unknown word (word dropout) or None."""
        if self.kind == "learned":
            return self.table(word_ids)  # (B, L, E); word_ids already carry the dropout
        if self.kind == "one_hot":
            return nn.functional.one_hot(word_ids, self.num_words).float()  # (B, L, V)
        vectors = self.trigrams(trigram_ids)[word_index]  # (B, L, E)
        if dropped is not None:
            vectors = vectors.masked_fill(dropped.unsqueeze(2), 0.0)
        return vectors


class CharCNN(nn.Module):
    """Characters of a word -> one vector: embedding, convolution, max over the word's characters."""

    def __init__(self, num_chars: int, char_dim: int, filters: int, kernel_size: int) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("the character kernel size must be odd (one output per character)")
        self.output_size = filters
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=PAD_ID)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size, padding=kernel_size // 2)

    def forward(self, char_ids: Tensor) -> Tensor:  # (U, W) -> (U, F)
        embedded = self.embedding(char_ids).transpose(1, 2)  # (U, C, W)
        features = torch.relu(self.conv(embedded))[:, :, : char_ids.size(1)]  # (U, F, W), centred on each char
        # max over the word's own characters only: the result must not depend on the batch's padding
        is_char = (char_ids != PAD_ID).unsqueeze(1)  # (U, 1, W)
        pooled = features.masked_fill(~is_char, float("-inf")).max(dim=2).values  # (U, F)
        return pooled.masked_fill(~is_char.any(dim=2), 0.0)  # the padding word: zeros
