"""slotfill's tokens as a transformer's word pieces: each token becomes one or more pieces
(`tokenizers`, Apache-2.0, reading the transformer's own `tokenizer.json`), and every token keeps at
least one (a token the word-piece vocabulary cannot cover is its unknown piece, never dropped or
merged with its neighbour). A sentence longer than the transformer reads at once is cut into windows
at token boundaries, each read with the transformer's special pieces around it ([CLS] ... [SEP]):
nothing is truncated.

A token's feature is the mean of its pieces' last states (or its first piece's): `PieceArrays`
say which states each token pools and with what weight, for the transformer to compute in one graph
(slotfill.nn.transformer.Transformer, and the exported encoder/model.onnx).

A sentence's features do not depend on the sentences it is computed with (`PieceFeatures`):
windows are run in groups of one piece count rounded up to PIECE_BUCKET, each group as rows padded
to a multiple of ROW_MULTIPLE, and every token pools a fixed POOLED_PIECES slots, so a window has
the same shapes (and BLAS the same order of sums) alone as in any batch.

Torch-free: the pieces are ids; the transformer is run by a callable (torch or onnxruntime).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from slotfill.errors import ModelError
from slotfill.features.rows import ROW_MULTIPLE

TOKENIZER_FILE = "tokenizer.json"
PIECE_BUCKET = 16  # a group's windows are padded to their piece count rounded up to this
WINDOWS_PER_RUN = 64  # windows of one piece count run through the transformer at once
# the pieces a token's feature pools (its first ones): a fixed size, so that the sum over them is
# done in the same order whatever the other tokens of the batch are
POOLED_PIECES = 8


@dataclass(frozen=True)
class PieceWindow:
    """One transformer input: piece ids with the special pieces, and for each of its tokens the
    positions of that token's pieces in `ids`."""

    ids: list[int]  # (P,) including [CLS] and [SEP]
    token_pieces: list[list[int]]  # per token of the window: positions in ids (at least one)
    first_token: int  # the window's first token in the sentence


class WordPieces:
    """A transformer's word-piece tokenizer over slotfill tokens."""

    def __init__(self, tokenizer: object, max_pieces: int, where: Path) -> None:
        """`max_pieces`: the most pieces one window holds, the special ones included."""
        self.tokenizer, self.where, self.max_pieces = tokenizer, where, max_pieces
        self.tokenizer.no_padding()  # type: ignore[attr-defined]
        self.tokenizer.no_truncation()  # type: ignore[attr-defined]
        self.unknown = _unknown_id(self.tokenizer, where)  # first: encoding fails in a tokenizer without it
        self.prefix, self.suffix = _split_specials(self.tokenizer)
        self.max_tokens_pieces = max_pieces - len(self.prefix) - len(self.suffix)
        if self.max_tokens_pieces < 1:
            raise ModelError(f"{where}: the transformer reads {max_pieces} pieces at once, too few for any token")

    @classmethod
    def from_dir(cls, directory: Path, max_pieces: int) -> WordPieces:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelError(
                f"{directory}: reading word pieces needs tokenizers: pip install 'slotfill[runtime]'"
            ) from None

        path = Path(directory) / TOKENIZER_FILE
        if not path.is_file():
            raise ModelError(f"{path}: missing (an transformer folder holds its word-piece tokenizer.json)")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:  # tokenizers raises its own Exception for a file it cannot read
            raise ModelError(f"{path}: not a tokenizers file ({str(error).splitlines()[0]})") from None
        return cls(tokenizer, max_pieces, path)

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))  # type: ignore[attr-defined]

    def token_ids(self, tokens: Sequence[str]) -> list[list[int]]:
        """Each token's piece ids (at least one: the unknown piece where it has none)."""
        encoding = self.tokenizer.encode(list(tokens), is_pretokenized=True, add_special_tokens=False)  # type: ignore[attr-defined]
        pieces: list[list[int]] = [[] for _ in tokens]
        for piece, token in zip(encoding.ids, encoding.word_ids):
            if token is not None:
                pieces[token].append(piece)
        return [own[: self.max_tokens_pieces] or [self.unknown] for own in pieces]

    @property
    def pad_id(self) -> int:
        """The padding piece: [PAD] or <pad> where the tokenizer has one, else 0."""
        for name in ("[PAD]", "<pad>"):
            found = self.tokenizer.token_to_id(name)  # type: ignore[attr-defined]
            if found is not None:
                return int(found)
        return 0

    def windows(self, tokens: Sequence[str]) -> list[PieceWindow]:
        """The transformer inputs of one sentence: as few windows as fit, cut between tokens."""
        windows, ids, positions, first = [], list(self.prefix), [], 0
        for index, own in enumerate(self.token_ids(tokens)):
            if positions and len(ids) - len(self.prefix) + len(own) > self.max_tokens_pieces:
                windows.append(PieceWindow(ids + self.suffix, positions, first))
                ids, positions, first = list(self.prefix), [], index
            positions.append(list(range(len(ids), len(ids) + len(own))))
            ids += own
        windows.append(PieceWindow(ids + self.suffix, positions, first))
        return windows


def _split_specials(tokenizer: object) -> tuple[list[int], list[int]]:
    """The special pieces before and after the tokens ([CLS] / [SEP], <s> / </s>), from what the
    tokenizer's post-processor adds around one token."""
    around = tokenizer.encode(["a"], is_pretokenized=True, add_special_tokens=True)  # type: ignore[attr-defined]
    inner = [i for i, token in enumerate(around.word_ids) if token is not None]
    if not inner:  # a post-processor that drops the token: its special pieces all go before
        return around.ids, []
    return around.ids[: inner[0]], around.ids[inner[-1] + 1 :]


def _unknown_id(tokenizer: object, where: Path) -> int:
    """The piece a token the vocabulary cannot cover becomes: the one the tokenizer's model declares
    (WordPiece, WordLevel, BPE), which must be in its vocabulary, else one of the usual names."""
    declared = getattr(tokenizer.model, "unk_token", None)  # type: ignore[attr-defined]
    if declared is not None:
        found = tokenizer.token_to_id(declared)  # type: ignore[attr-defined]
        if found is None:
            raise ModelError(
                f"{where}: the tokenizer's unknown piece {declared!r} is not in its vocabulary: a word it "
                "cannot cover would have no piece (refused: such a transformer reads most words as nothing)"
            )
        return int(found)
    for name in ("[UNK]", "<unk>", "<UNK>"):
        found = tokenizer.token_to_id(name)  # type: ignore[attr-defined]
        if found is not None:
            return int(found)
    raise ModelError(f"{where}: the tokenizer has no unknown piece ([UNK] or <unk>) for a token it cannot cover")


class PieceArrays(NamedTuple):
    """One run of the transformer and how its piece states become token features: the states
    (R, P, H) are read as (R * P, H) rows, and each token is the weighted sum of the rows `index`
    names (weights 1/n over its n first pieces for the mean, 1 for the first piece)."""

    ids: np.ndarray  # (R, P) int64: piece ids, the pad piece past each window
    mask: np.ndarray  # (R, P) int64: 1 on a window's pieces
    index: np.ndarray  # (N, T, K) int64: rows of the (R * P) piece states each token pools (0 where padding)
    weight: np.ndarray  # (N, T, K) float32: each pooled row's weight (0 where padding); K = POOLED_PIECES


def _window_rows(windows: Sequence[PieceWindow], width: int, rows: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, width) piece ids and mask; rows past the windows are copies of the first."""
    ids = np.full((rows, width), pad_id, dtype=np.int64)
    mask = np.zeros((rows, width), dtype=np.int64)
    for row in range(rows):
        window = windows[row] if row < len(windows) else windows[0]
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask


def _pooling(rows: Sequence[Sequence[Sequence[int]]], pooling: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, T, K) index and weight for N rows of tokens, each token given as the flat positions of
    its pieces in the run's (R * P) states."""
    tokens = max((len(row) for row in rows), default=1)
    index = np.zeros((len(rows), tokens, POOLED_PIECES), dtype=np.int64)
    weight = np.zeros((len(rows), tokens, POOLED_PIECES), dtype=np.float32)
    for n, row in enumerate(rows):
        for t, positions in enumerate(row):
            used = positions[:1] if pooling == "first" else positions[:POOLED_PIECES]
            index[n, t, : len(used)] = used
            weight[n, t, : len(used)] = 1.0 / len(used)
    return index, weight


def window_groups(windows: Sequence[PieceWindow], pooling: str, pad_id: int) -> list[tuple[list[int], PieceArrays]]:
    """The windows in runs of one piece bucket: each run's members (indices into `windows`) and
    its arrays, a row of tokens per window (filler rows: copies of the run's first window)."""
    buckets: dict[int, list[int]] = {}
    for index, window in enumerate(windows):
        buckets.setdefault(-(-len(window.ids) // PIECE_BUCKET) * PIECE_BUCKET, []).append(index)
    runs = []
    for width, members in sorted(buckets.items()):
        for start in range(0, len(members), WINDOWS_PER_RUN):
            group = members[start : start + WINDOWS_PER_RUN]
            chosen = [windows[i] for i in group]
            ids, mask = _window_rows(chosen, width, len(chosen) + (-len(chosen) % ROW_MULTIPLE), pad_id)
            flat = [[[row * width + p for p in own] for own in w.token_pieces] for row, w in enumerate(chosen)]
            runs.append((group, PieceArrays(ids, mask, *_pooling(flat, pooling))))
    return runs


def sentence_pieces(sentences: Sequence[Sequence[PieceWindow]], pooling: str, pad_id: int) -> PieceArrays:
    """One run over every window of a batch of sentences (padded to the longest), a row of tokens
    per sentence: what training computes the features of a batch with (no grouping: the result
    needs no batch invariance, and one run is faster)."""
    windows = [window for own in sentences for window in own]
    width = max(len(window.ids) for window in windows)
    ids, mask = _window_rows(windows, width, len(windows), pad_id)
    rows, first_row = [], 0
    for own in sentences:
        rows.append(
            [[(first_row + r) * width + p for p in pieces] for r, w in enumerate(own) for pieces in w.token_pieces]
        )
        first_row += len(own)
    return PieceArrays(ids, mask, *_pooling(rows, pooling))


@dataclass(frozen=True)
class PieceReader:
    """How a model reads its sentences' word pieces: the tokenizer, and how a token pools its pieces."""

    pieces: WordPieces
    pooling: str  # "mean" or "first" (choices.TRANSFORMER_POOLINGS)

    def windows(self, tokens: Sequence[str]) -> list[PieceWindow]:
        return self.pieces.windows(tokens)

    def batch(self, sentences: Sequence[Sequence[PieceWindow]]) -> PieceArrays:
        """The pieces of a training batch (slotfill.features.arrays), a row of tokens per sentence."""
        return sentence_pieces(sentences, self.pooling, self.pieces.pad_id)


# runs a transformer on one PieceArrays: (N, T, H) float32 token features
PieceRun = Callable[[PieceArrays], np.ndarray]


class PieceFeatures:
    """Sentences of tokens in, one (L, H) array of transformer features per sentence out, whatever the
    other sentences are (torch-free: `run` is the transformer, torch or onnxruntime).

    `half`: features rounded to float16 (a frozen transformer's, as its training cache keeps them);
    `cache`: set to a dict to encode a sentence once however often it comes (training, calibration)."""

    def __init__(self, reader: PieceReader, run: PieceRun, size: int, *, half: bool) -> None:
        self.reader, self.run, self.size, self.half = reader, run, size, half
        self.cache: dict[tuple[str, ...], np.ndarray] | None = None

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        keys = [tuple(tokens) for tokens in sentences]
        wanted = [i for i, key in enumerate(keys) if self.cache is None or key not in self.cache]
        owners = [(i, window) for i in wanted for window in self.reader.windows(sentences[i])]
        per_window: list[np.ndarray] = [np.empty(0)] * len(owners)
        groups = window_groups([w for _, w in owners], self.reader.pooling, self.reader.pieces.pad_id)
        for members, arrays in groups:
            pooled = self.run(arrays)  # (N, T, H)
            for row, index in enumerate(members):
                per_window[index] = pooled[row, : len(owners[index][1].token_pieces)]
        parts: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
        for (sentence, _), features in zip(owners, per_window):
            parts[sentence].append(features)
        dtype = np.float16 if self.half else np.float32
        out = {i: np.concatenate(parts[i]).astype(dtype) for i in wanted}  # (L, H) each
        if self.cache is not None:
            self.cache.update((keys[i], features) for i, features in out.items())
            return [self.cache[key] for key in keys]
        return [out[i] for i in range(len(keys))]
