"""Sentences to padded numpy arrays: the model's inputs, with no torch (the exported model and the
torch model read the same arrays; slotfill.nn.batching turns them into tensors for training).

Characters are looked up once per distinct word (word type) of a batch, not once per token: a batch
holds `char_ids` and `trigram_ids` for its U distinct words and `type_index` pointing every token at
its word's row. An encoded sentence's `type_index` points into the corpus's tables the same way.
Sentences arrive as the model sees them: punctuation already left out (slotfill.text.tokenise.is_punctuation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from slotfill.data.context import Context
from slotfill.data.example import Example
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import PAD_ID, UNK_ID, Vocab, letter_trigrams
from slotfill.features.wordpieces import PieceReader, PieceWindow
from slotfill.text.tokenise import normalise

MAX_WORD_CHARS = 24  # longer words keep their first 24 characters for the character CNN


class FeatureArrays(NamedTuple):
    word_ids: np.ndarray  # (B, L) int64, PAD_ID past each length
    char_ids: np.ndarray  # (U, W) int64: characters of the batch's U distinct words
    type_index: np.ndarray  # (B, L) int64: row of char_ids (and trigram_ids) for each token
    trigram_ids: np.ndarray  # (U, K) int64: letter trigrams of the batch's U distinct words
    lengths: np.ndarray  # (B,) int64
    gazetteer_features: np.ndarray  # (B, L, G) float32: BIO membership of each token in each list (G may be 0)
    vector_ids: np.ndarray  # (U,) int64: each distinct word's row of the pretrained vectors (UNK_ID: none)
    tag_ids: np.ndarray | None = None  # (B, L) int64, gold tags (training only)
    intent_ids: np.ndarray | None = None  # (B,) int64, gold intents (training only)
    transformer_features: np.ndarray | None = None  # (B, L, H) float32: a transformer's, where the model has one
    # a fine-tuned transformer's inputs in training (slotfill.features.wordpieces.PieceArrays; None otherwise)
    piece_ids: np.ndarray | None = None  # (R, P) int64: the batch's windows of word pieces
    piece_mask: np.ndarray | None = None  # (R, P) int64
    piece_index: np.ndarray | None = None  # (B, L, K) int64: the (R * P) piece states each token pools
    piece_weight: np.ndarray | None = None  # (B, L, K) float32
    # the slots the system requested before each sentence, as the model reads them (R: vocab.requested;
    # 0 for a model without dialogue context)
    requested: np.ndarray | None = None  # (B, R) float32, 1 where the slot was requested


# a transformer's features of sentences of model-view words: one (L, H) array each
# (slotfill.nn.transformer.TransformerFeatures; computed once per sentence, as the model reads them)
TransformerFeaturesFn = Callable[[Sequence[Sequence[str]]], list[np.ndarray]]


@dataclass(frozen=True)
class EncodedSentence:
    word_ids: list[int]  # (L,)
    type_index: list[int]  # (L,) each token's word type: its row of the corpus's char and trigram tables
    gazetteer_bits: list[int]  # (L,) bit 2k: begins a match of list k; bit 2k+1: inside one
    tag_ids: list[int] | None  # (L,)
    intent_id: int | None
    transformer_features: np.ndarray | None = None  # (L, H), where the model has a transformer
    windows: list[PieceWindow] | None = None  # its word pieces, where the model runs a fine-tuned transformer itself
    requested: tuple[int, ...] = ()  # ids of vocab.requested: the slots the system asked for before it


def padded(rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """One (len(rows), width) int64 array, zero-padded."""
    out = np.full((len(rows), width), PAD_ID, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


class EncodedSentences:
    """Sentences encoded once; `char_table` (N, W), `trigram_table` (N, K) and `vector_table` (N,)
    hold the characters, letter trigrams and pretrained-vector row of the N distinct words."""

    def __init__(
        self,
        sentences: list[EncodedSentence],
        char_table: np.ndarray,
        trigram_table: np.ndarray,
        vector_table: np.ndarray,
        num_gazetteer_features: int,
        piece_reader: PieceReader | None = None,
        num_requested: int = 0,
    ) -> None:
        """`piece_reader`: how the sentences' `windows` become a batch's piece arrays (a model
        that runs a fine-tuned transformer itself, in training); `num_requested`: the requested slots
        the model reads (0: no dialogue context)."""
        self.sentences, self.char_table, self.trigram_table = sentences, char_table, trigram_table
        self.vector_table, self.piece_reader, self.num_requested = vector_table, piece_reader, num_requested
        self.feature_bits = np.arange(num_gazetteer_features, dtype=np.int64)  # (G,)

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> EncodedSentence:
        return self.sentences[index]

    def lengths(self) -> list[int]:
        return [len(s.word_ids) for s in self.sentences]

    def arrays(self, sentences: Sequence[EncodedSentence], row_multiple: int = 1) -> FeatureArrays:
        """The padded arrays of a batch of these sentences. With `row_multiple`, the batch is
        filled up with copies of its first sentence (and the distinct words with empty ones) to a
        multiple of that many rows: see ROW_MULTIPLE."""
        filler = -len(sentences) % row_multiple
        sentences = [*sentences, *[sentences[0]] * filler]
        lengths = [len(s.word_ids) for s in sentences]
        longest = max(lengths)
        word_ids = padded([s.word_ids for s in sentences], longest)  # (B, L)
        corpus_types = padded([s.type_index for s in sentences], longest)  # (B, L) rows of the tables, 0: padding
        distinct, inverse = np.unique(corpus_types, return_inverse=True)  # (U,), rows of the batch's U words
        type_index = inverse.reshape(corpus_types.shape)  # (B, L)
        distinct = np.concatenate([distinct, np.zeros(-len(distinct) % row_multiple, dtype=np.int64)])
        char_ids = self.char_table[distinct]  # (U, MAX_WORD_CHARS)
        width = max(1, int((char_ids != PAD_ID).sum(1).max()))
        char_ids = char_ids[:, :width]  # (U, W)
        trigram_ids = self.trigram_table[distinct][:, :width]  # (U, K): a word has as many trigrams as chars
        vector_ids = self.vector_table[distinct]  # (U,)
        bits = padded([s.gazetteer_bits for s in sentences], longest)  # (B, L)
        gazetteer_features = ((bits[:, :, None] >> self.feature_bits) & 1).astype(np.float32)  # (B, L, G)
        tag_ids = intent_ids = None
        if sentences[0].tag_ids is not None:
            tag_ids = padded([s.tag_ids or [] for s in sentences], longest)
        if sentences[0].intent_id is not None:
            intent_ids = np.array([s.intent_id for s in sentences], dtype=np.int64)
        transformer_features = None
        if sentences[0].transformer_features is not None:
            transformer_features = np.zeros(
                (len(sentences), longest, sentences[0].transformer_features.shape[1]), np.float32
            )
            for row, sentence in enumerate(sentences):  # (B, L, H), zero past each length
                transformer_features[row, : len(sentence.word_ids)] = sentence.transformer_features
        pieces = (None,) * 4
        if self.piece_reader is not None and sentences[0].windows is not None:
            pieces = tuple(self.piece_reader.batch([s.windows or [] for s in sentences]))
        requested = None
        if self.num_requested:
            requested = np.zeros((len(sentences), self.num_requested), np.float32)  # (B, R)
            for row, sentence in enumerate(sentences):
                requested[row, list(sentence.requested)] = 1.0
        return FeatureArrays(
            word_ids,
            np.ascontiguousarray(char_ids),
            type_index,
            np.ascontiguousarray(trigram_ids),
            np.array(lengths, dtype=np.int64),
            gazetteer_features,
            vector_ids,
            tag_ids,
            intent_ids,
            transformer_features,
            *pieces,
            requested,
        )


def encode_sentences(
    token_lists: Sequence[Sequence[str]],
    vocab: Vocab,
    gazetteers: GazetteerSet,
    examples: Sequence[Example] | None = None,
    transformer_features: TransformerFeaturesFn | None = None,
    piece_reader: PieceReader | None = None,
    contexts: Sequence[Context] | None = None,
) -> EncodedSentences:
    """Encode tokenised sentences (each non-empty, without punctuation). With `examples`, gold tags
    and intents are encoded too; every one must be in the vocabulary (true of the training set).
    With `transformer_features`, each sentence's transformer features, of its model-view words;
    with `piece_reader`, its word pieces instead (a fine-tuned transformer computes the features).
    Each sentence's requested slots come from `contexts`, else from `examples` (a model with
    dialogue context reads those it knows: see requested_ids)."""
    type_of: dict[str, int] = {"": 0}  # type 0: the padding word, no characters
    word_id, sentences = vocab.words.get, []
    all_words = [[normalise(token) for token in tokens] for tokens in token_lists]
    features = transformer_features(all_words) if transformer_features is not None else [None] * len(all_words)
    windows = [piece_reader.windows(w) for w in all_words] if piece_reader is not None else [None] * len(all_words)
    for i, words in enumerate(all_words):
        type_index = [type_of.setdefault(w, len(type_of)) for w in words]
        tag_ids, intent_id = None, None
        if examples is not None:
            tag_ids = [vocab.tags[t] for t in examples[i].tags]
            if len(vocab.intents) and examples[i].intent is not None:
                intent_id = vocab.intents[examples[i].intent]
        bits = gazetteers.features(words)
        context = contexts[i] if contexts is not None else examples[i].context if examples is not None else None
        requested = requested_ids(vocab, context) if context else ()
        sentences.append(
            EncodedSentence(
                [word_id(w) for w in words], type_index, bits, tag_ids, intent_id, features[i], windows[i], requested
            )
        )
    clipped = [word[:MAX_WORD_CHARS] for word in type_of]  # in row order (dicts keep insertion order)
    char_table = padded([[vocab.chars.get(c) for c in word] for word in clipped], MAX_WORD_CHARS)
    trigram_table = padded(
        [[vocab.trigrams.get(t) for t in letter_trigrams(w)] if w else [] for w in clipped], MAX_WORD_CHARS
    )
    vector_row = vocab.vectors.get if vocab.vectors is not None else (lambda word: UNK_ID)
    vector_table = np.array([vector_row(w) if w else PAD_ID for w in type_of], dtype=np.int64)  # (N,)
    return EncodedSentences(
        sentences, char_table, trigram_table, vector_table, gazetteers.num_features, piece_reader, len(vocab.requested)
    )


def requested_ids(vocab: Vocab, context: Context) -> tuple[int, ...]:
    """The ids of the requested slots of `context` that the model reads (others are left out: the
    caller warns about them, slotfill.predict), sorted."""
    return tuple(sorted(vocab.requested[name] for name in context.requested_slots if name in vocab.requested))


def batches_by_length(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices in batches of similar length, shortest first: the order of inference."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    yield from (order[i : i + batch_size] for i in range(0, len(order), batch_size))
