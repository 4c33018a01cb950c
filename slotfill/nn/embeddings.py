"""Word inputs: a learned table, a 1-of-N code, or letter trigrams (word hashing), plus the char CNN.

- ``learned``: an embedding table, one vector per vocabulary word;
- ``one_hot``: the 1-of-N code itself (size = vocabulary), the UNK entry standing for every unseen word;
- ``letter_trigram``: "apple" -> #ap app ppl ple le#; the word is the sum of its trigrams' vectors
  (a linear map of the bag of trigrams), so unseen words still get a vector.

Pretrained vectors (model.embedding.vectors, learned tables only) are a frozen table beside the
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

from typing import NamedTuple

import torch
from torch import Tensor, nn

from slotfill.features.vocab import PAD_ID, UNK_ID
from slotfill.nn.linear import RowInvariantLinear


class VectorTable(NamedTuple):
    """The frozen pretrained vectors beside a learned table: (rows, dim) and how they join it."""

    rows: int
    dim: int
    join: str


class WordInput(nn.Module):
    """Token ids (B, L) (and, for trigrams, the batch's distinct words) -> (B, L, output_size).

    One subclass per kind of choices.EMBEDDING_KINDS, registered in WORD_INPUTS; `word_input`
    builds the configured one. Their parameters keep the names earlier model directories saved
    (`table`, `trigrams`, `vectors`, `projection`)."""

    kind = ""
    has_vectors = False
    output_size: int

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
        raise NotImplementedError


class OneHotWords(WordInput):
    kind = "one_hot"

    def __init__(self, num_words: int, num_trigrams: int, dim: int) -> None:
        super().__init__()
        self.num_words = self.output_size = num_words

    def forward(self, word_ids, trigram_ids, type_index, dropped, vector_ids=None, blank=None):  # type: ignore[override]
        return nn.functional.one_hot(word_ids, self.num_words).float()  # (B, L, V)


class TrigramWords(WordInput):
    kind = "letter_trigram"

    def __init__(self, num_words: int, num_trigrams: int, dim: int) -> None:
        super().__init__()
        self.trigrams = nn.EmbeddingBag(num_trigrams, dim, mode="sum", padding_idx=PAD_ID)
        self.output_size = dim

    def forward(self, word_ids, trigram_ids, type_index, dropped, vector_ids=None, blank=None):  # type: ignore[override]
        per_word = self.trigrams(trigram_ids)  # (U, E)
        vectors = per_word.index_select(0, type_index.flatten()).view(*type_index.shape, -1)  # (B, L, E)
        if dropped is not None:
            vectors = vectors.masked_fill(dropped.unsqueeze(2), 0.0)
        return vectors


class LearnedWords(WordInput):
    """A learned table, and the frozen pretrained vectors (`vectors` with rows) joined to it by one
    of VECTOR_JOIN."""

    kind = "learned"

    def __init__(self, num_words: int, num_trigrams: int, dim: int, vectors: VectorTable | None = None) -> None:
        super().__init__()
        self.table = nn.Embedding(num_words, dim, padding_idx=PAD_ID)
        self.output_size, self.join = dim, vectors.join if vectors is not None else "concat"
        self.has_vectors = vectors is not None and vectors.rows > 0
        if vectors is None or not self.has_vectors:  # (vectors is None: for the type checker)
            return
        num_vectors, vector_dim, join = vectors
        if join == "init" and vector_dim != dim:
            raise ValueError(f"join init: the learned table's dim ({dim}) must be the vectors' ({vector_dim})")
        # (N, D), frozen: saved with the weights, never trained (slotfill.store saves it as float16)
        self.register_buffer("vectors", torch.zeros(num_vectors, vector_dim))
        if join == "project":
            self.projection = RowInvariantLinear(vector_dim, dim, bias=False)
        if join == "concat":
            self.output_size = dim + vector_dim

    def forward(self, word_ids, trigram_ids, type_index, dropped, vector_ids=None, blank=None):  # type: ignore[override]
        learned = self.table(word_ids)  # (B, L, E); word_ids already carry the dropout
        if not self.has_vectors:
            return learned
        if vector_ids is None:
            raise ValueError("a word input with pretrained vectors needs the words' vector_ids")
        per_word = self.vectors.index_select(0, vector_ids)  # (U, D)
        pretrained = per_word.index_select(0, type_index.flatten()).view(*type_index.shape, -1)  # (B, L, D)
        if blank is not None:
            pretrained = pretrained.masked_fill(blank.unsqueeze(2), 0.0)
        return VECTOR_JOIN[self.join](self, learned, pretrained, word_ids, vector_ids, type_index, blank)


def _concat(words: LearnedWords, learned: Tensor, pretrained: Tensor, *_: Tensor | None) -> Tensor:
    return torch.cat([learned, pretrained], dim=2)  # (B, L, E + D)


def _project(words: LearnedWords, learned: Tensor, pretrained: Tensor, *_: Tensor | None) -> Tensor:
    return learned + words.projection(pretrained)  # (B, L, E)


def _init(
    words: LearnedWords,
    learned: Tensor,
    pretrained: Tensor,
    word_ids: Tensor,
    vector_ids: Tensor,
    type_index: Tensor,
    blank: Tensor | None,
) -> Tensor:
    """The learned vector, or the pretrained one where the table does not know the word (UNK)
    and the vectors do."""
    known_to_vectors = (vector_ids > UNK_ID).index_select(0, type_index.flatten()).view_as(word_ids)  # (B, L)
    use_vector = (word_ids == UNK_ID) & known_to_vectors
    if blank is not None:
        use_vector = use_vector & ~blank
    return torch.where(use_vector.unsqueeze(2), pretrained, learned)  # (B, L, E)


# one entry per choice (tests/nn holds these tables equal to choices.EMBEDDING_KINDS and VECTOR_JOINS,
# which the config's types are made of)
WORD_INPUTS: dict[str, type[WordInput]] = {
    "learned": LearnedWords,
    "one_hot": OneHotWords,
    "letter_trigram": TrigramWords,
}
VECTOR_JOIN = {"concat": _concat, "project": _project, "init": _init}


def word_input(kind: str, num_words: int, num_trigrams: int, dim: int, vectors: VectorTable | None = None) -> WordInput:
    """The word input of `kind` (a validated config's choice) for these sizes; pretrained vectors
    join a learned table only."""
    if vectors is not None and vectors.rows > 0:
        if kind != "learned":
            raise ValueError("pretrained vectors join a learned table")
        return LearnedWords(num_words, num_trigrams, dim, vectors)
    return WORD_INPUTS[kind](num_words, num_trigrams, dim)


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
