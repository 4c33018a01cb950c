"""Word inputs: a learned table, a 1-of-N code, or letter trigrams (word hashing), plus the char CNN.

- ``learned``: an embedding table, one vector per vocabulary word;
- ``one_hot``: the 1-of-N code itself (size = vocabulary), the UNK entry standing for every unseen word;
- ``letter_trigram``: "apple" -> #ap app ppl ple le#; the word is the sum of its trigrams' vectors
  (a linear map of the bag of trigrams), so unseen words still get a vector.

Pretrained vectors (model.embedding.pretrained, learned tables only) are a frozen table beside the
learned one, indexed by each distinct word's `vector_ids` row (UNK_ID: the word has none, a zero
vector). How they join:
- ``concat``: [learned vector, pretrained vector];
- ``project``: learned vector + a learned linear map of the pretrained vector;
- ``init``: the learned rows of training words start from their vectors (slotfill.nn.tagger's
  `load_vectors`); a word the learned table does not know (UNK) takes its pretrained vector.
In training, a word replaced by UNK (word dropout) keeps its pretrained vector: that is the
situation of a word only the vectors know; where its characters are hidden too, so is its vector.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from slotfill.choices import EMBEDDING_KINDS, VECTOR_JOINS
from slotfill.features.vocab import PAD_ID, UNK_ID
from slotfill.nn.linear import RowInvariantLinear


class WordInput(nn.Module):
    """Token ids (B, L) (and, for trigrams, the batch's distinct words) -> (B, L, output_size)."""

    def __init__(
        self,
        kind: str,
        num_words: int,
        num_trigrams: int,
        dim: int,
        *,
        num_vectors: int = 0,
        vector_dim: int = 0,
        join: str = "concat",
    ) -> None:
        super().__init__()
        if kind not in EMBEDDING_KINDS:
            raise ValueError(f"unknown embedding kind {kind!r}")
        if join not in VECTOR_JOINS:
            raise ValueError(f"unknown join {join!r}")
        self.kind, self.num_words, self.join = kind, num_words, join
        if kind == "learned":
            self.table = nn.Embedding(num_words, dim, padding_idx=PAD_ID)
            self.output_size = dim
        elif kind == "one_hot":
            self.output_size = num_words
        else:
            self.trigrams = nn.EmbeddingBag(num_trigrams, dim, mode="sum", padding_idx=PAD_ID)
            self.output_size = dim
        self.has_vectors = num_vectors > 0
        if self.has_vectors:
            if kind != "learned":
                raise ValueError("pretrained vectors join a learned table")
            if join == "init" and vector_dim != dim:
                raise ValueError(f"join init: the learned table's dim ({dim}) must be the vectors' ({vector_dim})")
            # (N, D), frozen: saved with the weights, never trained (slotfill.store saves it as float16)
            self.register_buffer("pretrained", torch.zeros(num_vectors, vector_dim))
            if join == "project":
                self.projection = RowInvariantLinear(vector_dim, dim, bias=False)
            if join == "concat":
                self.output_size = dim + vector_dim

    def forward(
        self,
        word_ids: Tensor,
        trigram_ids: Tensor,
        type_index: Tensor,
        dropped: Tensor | None,
        vector_ids: Tensor | None = None,
        blank: Tensor | None = None,
    ) -> Tensor:
        """word_ids (B, L); trigram_ids (U, K) and vector_ids (U,) for the U distinct words;
        type_index (B, L) into U; dropped (B, L) bool: tokens replaced by the unknown word (word
        dropout) or None; blank (B, L) bool: dropped tokens that lose their pretrained vector too."""
        if self.kind == "learned":
            learned = self.table(word_ids)  # (B, L, E); word_ids already carry the dropout
            if not self.has_vectors:
                return learned
            if vector_ids is None:
                raise ValueError("a word input with pretrained vectors needs the words' vector_ids")
            return self._joined(learned, word_ids, type_index, vector_ids, blank)
        if self.kind == "one_hot":
            return nn.functional.one_hot(word_ids, self.num_words).float()  # (B, L, V)
        per_word = self.trigrams(trigram_ids)  # (U, E)
        vectors = per_word.index_select(0, type_index.flatten()).view(*type_index.shape, -1)  # (B, L, E)
        if dropped is not None:
            vectors = vectors.masked_fill(dropped.unsqueeze(2), 0.0)
        return vectors

    def _joined(
        self, learned: Tensor, word_ids: Tensor, type_index: Tensor, vector_ids: Tensor, blank: Tensor | None
    ) -> Tensor:
        """The learned vectors (B, L, E) joined with the pretrained ones."""
        per_word = self.pretrained.index_select(0, vector_ids)  # (U, D)
        pretrained = per_word.index_select(0, type_index.flatten()).view(*type_index.shape, -1)  # (B, L, D)
        if blank is not None:
            pretrained = pretrained.masked_fill(blank.unsqueeze(2), 0.0)
        if self.join == "concat":
            return torch.cat([learned, pretrained], dim=2)  # (B, L, E + D)
        if self.join == "project":
            return learned + self.projection(pretrained)  # (B, L, E)
        known_to_vectors = (vector_ids > UNK_ID).index_select(0, type_index.flatten()).view_as(word_ids)  # (B, L)
        use_vector = (word_ids == UNK_ID) & known_to_vectors
        if blank is not None:
            use_vector = use_vector & ~blank
        return torch.where(use_vector.unsqueeze(2), pretrained, learned)  # (B, L, E)


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
        self.conv = RowInvariantLinear(char_dim * kernel_size, filters)

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
