"""Pretrained word vectors, read from the standard formats (config `model.embedding.vectors`).

    glove            GloVe text: `word v1 ... vD` a line, no header
    word2vec         word2vec text: a header `N D`, then GloVe's lines (fastText's `.vec` is this format)
    fasttext         fastText `.vec` (the same reader as word2vec)
    word2vec_binary  word2vec binary: the header line, then per word `word ` and D little-endian float32
    slotfill         a directory with words.txt (one word a line) and vectors.npy (N, D): what
                     `slotfill vectors download` keeps in the cache

Files are read as a stream, line by line from the top, and reading stops once `max_words` distinct
words are kept: a 2 GB file never sits in memory. `.gz` files are read through gzip. Every word is
folded as the tokeniser folds what the model sees (slotfill.text.tokenise.normalise: lowercase,
accents folded on Latin letters); where two words fold to one form, the first (most frequent) wins.
The values are rounded to float16, the precision a model directory keeps them in, so that training
sees exactly what the saved model holds.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from slotfill.choices import VECTOR_SOURCES
from slotfill.config import VectorsConfig
from slotfill.data import downloads
from slotfill.errors import DataError
from slotfill.layout import VECTOR_TABLE_FILE, VECTOR_WORDS_FILE
from slotfill.text.tokenise import normalise

MAX_DIM = 4096  # wider than any published vectors: a bigger "dimension" is a damaged header


@dataclass(frozen=True)
class WordVectors:
    words: list[str]  # (N,) folded, distinct, most frequent first
    table: np.ndarray  # (N, D) float32, every value a float16

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])


def configured_vectors(config: VectorsConfig) -> WordVectors:
    """The vectors `model.embedding.vectors` asks for: a downloaded source or a file on disk."""
    path = config.resolved_path()
    if config.source in VECTOR_SOURCES:
        if not downloads.is_complete("vectors", config.source):
            raise DataError(
                f"model.embedding.vectors.source: {config.source} is not downloaded (looked in {path}): "
                f"run `slotfill vectors download {config.source}`"
            )
    elif not path.exists():
        raise DataError(f"model.embedding.vectors.source: {path}: no such vectors file")
    return read_vectors(path, config.format, config.max_words)


def detect_format(path: Path) -> str:
    """The format of `path` from its name and first line: a directory is slotfill's own, `.bin`
    word2vec binary, a first line of two integers a word2vec/fastText header, else GloVe."""
    if path.is_dir():
        return "slotfill"
    if path.suffix == ".bin" or path.name.endswith(".bin.gz"):
        return "word2vec_binary"
    with _open(path) as handle:
        first = handle.readline(1 << 20).split()
    return "word2vec" if len(first) == 2 and all(field.isdigit() for field in first) else "glove"


def read_vectors(path: Path, fmt: str = "auto", max_words: int | None = None) -> WordVectors:
    """The first `max_words` distinct folded words of the vectors at `path` (all of them when the
    file holds fewer, or with None). DataError naming the file and line for anything malformed."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such vectors file")
    fmt = detect_format(path) if fmt == "auto" else fmt
    limit = max_words if max_words is not None else 1 << 62
    try:
        words, vectors = _kept(_rows(path, fmt), limit)
    except EOFError:  # a gzip stream cut short
        raise DataError(f"{path}: the compressed file ends early (truncated?)") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read vectors ({error.strerror or error})") from None
    if not words:
        raise DataError(f"{path}: holds no word vectors")
    table = np.stack(vectors).astype(np.float16)
    if not np.isfinite(table).all():
        raise DataError(f"{path}: a vector value is not finite in float16 (beyond ±65504, or NaN)")
    return WordVectors(words, table.astype(np.float32))


def vector_dim(path: Path, fmt: str = "auto") -> int:
    """The width of the vectors at `path`, from their first row alone."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    try:
        first = next(iter(_rows(path, fmt)), None)
    except OSError as error:
        raise DataError(f"{path}: cannot read vectors ({error.strerror or error})") from None
    if first is None:
        raise DataError(f"{path}: holds no word vectors")
    return int(first[1].shape[0])


def _rows(path: Path, fmt: str) -> Iterator[tuple[str, np.ndarray]]:
    if fmt == "slotfill":
        return _slotfill_rows(path)
    if fmt == "word2vec_binary":
        return _binary_rows(path)
    return _text_rows(path, has_header=fmt in ("word2vec", "fasttext"))


def _kept(rows: Iterator[tuple[str, np.ndarray]], limit: int) -> tuple[list[str], list[np.ndarray]]:
    """The first `limit` distinct folded words and their vectors."""
    words: list[str] = []
    vectors: list[np.ndarray] = []
    seen: set[str] = set()
    if limit <= 0:
        return words, vectors
    for word, vector in rows:
        folded = normalise(word)
        if folded and folded not in seen:
            seen.add(folded)
            words.append(folded)
            vectors.append(vector)
            if len(words) == limit:
                break  # the rows below are never read
    return words, vectors


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _decoded(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{where}: not UTF-8 (byte {error.start + 1})") from None


def _header(line: bytes, where: str) -> tuple[int, int]:
    fields = line.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields):
        raise DataError(f"{where}: expected a header `WORDS DIMENSION`, got {line[:60]!r}")
    count, dim = int(fields[0]), int(fields[1])
    if not 0 < dim <= MAX_DIM:
        raise DataError(f"{where}: a header dimension of {dim} (1 to {MAX_DIM} expected)")
    return count, dim


def _text_rows(path: Path, *, has_header: bool) -> Iterator[tuple[str, np.ndarray]]:
    """(word, vector) of each line of a GloVe or word2vec text file."""
    dim, declared, number = None, None, 0
    with _open(path) as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path}:{number}"
            if number == 1 and has_header:
                declared, dim = _header(line, where)
                continue
            fields = line.rstrip(b"\r\n").rstrip(b" ").split(b" ")
            if dim is None:
                dim = len(fields) - 1
                if not 0 < dim <= MAX_DIM:
                    raise DataError(f"{where}: expected `WORD V1 ... VD`, got {len(fields)} field(s)")
            if len(fields) < dim + 1:
                raise DataError(f"{where}: {len(fields) - 1} values where the vectors have {dim} (a truncated file?)")
            if len(fields) > dim + 1 and _is_number(fields[1]):
                raise DataError(
                    f"{where}: {len(fields) - 1} values where the vectors have {dim} (rows of differing widths)"
                )
            # a word may hold spaces (GloVe 840B): the last D fields are the values
            word = _decoded(b" ".join(fields[: len(fields) - dim]), where)
            try:
                vector = np.array(fields[len(fields) - dim :], dtype=np.float32)
            except ValueError:
                raise DataError(f"{where}: a value is not a number") from None
            yield word, vector
    if declared is not None and number - 1 < declared:
        raise DataError(f"{path}: the header announces {declared:,} words, the file holds {number - 1:,} (truncated?)")


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _binary_rows(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(word, vector) of each entry of a word2vec binary file."""
    with _open(path) as handle:
        declared, dim = _header(handle.readline(256), f"{path}:1")
        width = 4 * dim
        for index in range(declared):
            where = f"{path}: word {index + 1:,}"
            word = bytearray()
            while True:
                byte = handle.read(1)
                if not byte:
                    raise DataError(f"{where}: the file ends; the header announces {declared:,} words (truncated?)")
                if byte == b" ":
                    break
                if byte != b"\n" or word:  # the newline that ends the previous vector
                    word += byte
                if len(word) > 1024:
                    raise DataError(f"{where}: no space after a word of 1,024 bytes (not word2vec binary?)")
            values = handle.read(width)
            if len(values) < width:
                raise DataError(f"{where}: the file ends inside a vector (truncated?)")
            yield _decoded(bytes(word), where), np.frombuffer(values, dtype="<f4").astype(np.float32)


def _slotfill_rows(directory: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(word, vector) of slotfill's own format: words.txt and vectors.npy, row for row."""
    words_path, table_path = directory / VECTOR_WORDS_FILE, directory / VECTOR_TABLE_FILE
    for path in (words_path, table_path):
        if not path.is_file():
            raise DataError(
                f"{path}: missing (slotfill vectors are a directory with {VECTOR_WORDS_FILE} and {VECTOR_TABLE_FILE})"
            )
    try:
        table = np.load(table_path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        raise DataError(f"{table_path}: not a numpy array file ({error})") from None
    if table.ndim != 2 or not 0 < table.shape[1] <= MAX_DIM:
        raise DataError(f"{table_path}: shape {list(table.shape)}, expected (words, dimension)")
    number = 0
    with words_path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if number > table.shape[0]:
                raise DataError(
                    f"{words_path}:{number}: more words than the {table.shape[0]:,} rows of {VECTOR_TABLE_FILE}"
                )
            yield (
                _decoded(line.rstrip(b"\n"), f"{words_path}:{number}"),
                np.asarray(table[number - 1], dtype=np.float32),
            )
    if number < table.shape[0]:
        raise DataError(f"{words_path}: {number:,} words for the {table.shape[0]:,} rows of {VECTOR_TABLE_FILE}")
