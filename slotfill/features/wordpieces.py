"""slotfill's tokens as a pretrained encoder's word pieces: each token becomes one or more pieces
(`tokenizers`, Apache-2.0, reading the encoder's own `tokenizer.json`), and every token keeps at
least one (a token the word-piece vocabulary cannot cover is its unknown piece, never dropped or
merged with its neighbour). A sentence longer than the encoder reads at once is cut into windows
at token boundaries, each read with the encoder's special pieces around it ([CLS] ... [SEP]):
nothing is truncated.

Torch-free: the pieces are ids; slotfill.nn.pretrained runs the encoder on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slotfill.errors import ModelError

TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class PieceWindow:
    """One encoder input: piece ids with the special pieces, and for each of its tokens the
    positions of that token's pieces in `ids`."""

    ids: list[int]  # (P,) including [CLS] and [SEP]
    token_pieces: list[list[int]]  # per token of the window: positions in ids (at least one)
    first_token: int  # the window's first token in the sentence


class WordPieces:
    """An encoder's word-piece tokenizer over slotfill tokens."""

    def __init__(self, tokenizer: object, max_pieces: int, where: Path) -> None:
        """`max_pieces`: the most pieces one window holds, the special ones included."""
        self.tokenizer, self.where = tokenizer, where
        self.tokenizer.no_padding()  # type: ignore[attr-defined]
        self.tokenizer.no_truncation()  # type: ignore[attr-defined]
        self.prefix, self.suffix = _split_specials(self.tokenizer)
        self.unknown = _unknown_id(self.tokenizer, where)
        self.max_tokens_pieces = max_pieces - len(self.prefix) - len(self.suffix)
        if self.max_tokens_pieces < 1:
            raise ModelError(f"{where}: the encoder reads {max_pieces} pieces at once, too few for any token")

    @classmethod
    def from_dir(cls, directory: Path, max_pieces: int) -> WordPieces:
        from tokenizers import Tokenizer

        path = Path(directory) / TOKENIZER_FILE
        if not path.is_file():
            raise ModelError(f"{path}: missing (an encoder folder holds its word-piece tokenizer.json)")
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

    def windows(self, tokens: Sequence[str]) -> list[PieceWindow]:
        """The encoder inputs of one sentence: as few windows as fit, cut between tokens."""
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
    for name in ("[UNK]", "<unk>", "<UNK>"):
        found = tokenizer.token_to_id(name)  # type: ignore[attr-defined]
        if found is not None:
            return int(found)
    raise ModelError(f"{where}: the tokenizer has no unknown piece ([UNK] or <unk>) for a token it cannot cover")
