"""Pretrained vectors from every standard format, streamed, folded as the tokeniser folds; and
every kind of broken file refused in one line naming the file and line."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from slotfill.errors import DataError
from slotfill.features.vectors import detect_format, read_vectors, vector_dim

# most frequent first; "Paris" and "paris" fold to one word (the first wins), "Zürich" loses its accent
WORDS = ["the", "Paris", "paris", "Zürich", "flights", "to"]
VALUES = np.arange(len(WORDS) * 3, dtype=np.float32).reshape(len(WORDS), 3) / 8 - 1  # exact in float16
EXPECTED_WORDS = ["the", "paris", "zurich", "flights", "to"]
EXPECTED_ROWS = VALUES[[0, 1, 3, 4, 5]]


def _text_lines(words: list[str] = WORDS, values: np.ndarray = VALUES) -> list[str]:
    return [" ".join([word, *(f"{v:g}" for v in row)]) for word, row in zip(words, values)]


def write_glove(path: Path, words: list[str] = WORDS, values: np.ndarray = VALUES) -> Path:
    path.write_text("\n".join(_text_lines(words, values)) + "\n", encoding="utf-8")
    return path


def write_word2vec_binary(path: Path, words: list[str] = WORDS, values: np.ndarray = VALUES) -> Path:
    body = b"".join(
        word.encode() + b" " + struct.pack(f"<{len(row)}f", *row) + b"\n" for word, row in zip(words, values)
    )
    path.write_bytes(f"{len(words)} {values.shape[1]}\n".encode() + body)
    return path


def test_every_format_gives_the_same_vectors(tmp_path: Path) -> None:
    glove = write_glove(tmp_path / "glove.txt")
    vec = tmp_path / "wiki.vec"
    vec.write_text(f"{len(WORDS)} 3\n" + "\n".join(_text_lines()) + "\n", encoding="utf-8")
    gz = tmp_path / "cc.en.300.vec.gz"
    gz.write_bytes(gzip.compress(vec.read_bytes()))
    binary = write_word2vec_binary(tmp_path / "vectors.bin")
    own = tmp_path / "own"
    own.mkdir()
    (own / "words.txt").write_text("".join(f"{w}\n" for w in WORDS), encoding="utf-8")
    np.save(own / "vectors.npy", VALUES)
    formats = {glove: "glove", vec: "word2vec", gz: "word2vec", binary: "word2vec_binary", own: "slotfill"}
    for path, fmt in formats.items():
        assert detect_format(path) == fmt
        vectors = read_vectors(path)
        assert vectors.words == EXPECTED_WORDS, path
        np.testing.assert_array_equal(vectors.table, EXPECTED_ROWS)
        assert vectors.dim == 3


def test_max_words_reads_from_the_top_and_a_larger_one_takes_all(tmp_path: Path) -> None:
    glove = write_glove(tmp_path / "glove.txt")
    assert read_vectors(glove, max_words=2).words == ["the", "paris"]  # distinct folded words
    assert read_vectors(glove, max_words=10**9).words == EXPECTED_WORDS


def test_reading_stops_at_max_words_without_reading_further(tmp_path: Path) -> None:
    """The lines after the kept words are never parsed: a broken tail does not matter."""
    glove = write_glove(tmp_path / "glove.txt")
    with glove.open("a", encoding="utf-8") as handle:
        handle.write("broken 1 2\n")
    assert read_vectors(glove, max_words=5).words == EXPECTED_WORDS  # the 6 lines above the broken one
    assert read_vectors(glove, max_words=3).words == ["the", "paris", "zurich"]
    with pytest.raises(DataError, match=re.escape(f"{glove}:7: 2 values where the vectors have 3")):
        read_vectors(glove)


def test_values_are_rounded_to_float16(tmp_path: Path) -> None:
    glove = tmp_path / "g.txt"
    glove.write_text("a 0.1 0.2\n", encoding="utf-8")
    table = read_vectors(glove).table
    assert table.dtype == np.float32
    np.testing.assert_array_equal(table, np.array([[0.1, 0.2]], np.float16).astype(np.float32))


def test_a_word_with_spaces_keeps_them(tmp_path: Path) -> None:
    """GloVe 840B has a few "words" with spaces: the last D fields are the values."""
    glove = tmp_path / "g.txt"
    glove.write_text("a 1 2\nat&t corp 3 4\n", encoding="utf-8")
    assert read_vectors(glove).words == ["a", "at&t corp"]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"a 1 2\nb 1\n", ":2: 1 values where the vectors have 2 (a truncated file?)"),
        (b"a 1 2\nb 1 2 3\n", ":2: 3 values where the vectors have 2 (rows of differing widths)"),
        (b"a 1 2\nb 1 x\n", ":2: a value is not a number"),
        (b"a 1 2\n\xff\xfe 1 2\n", ":2: not UTF-8 (byte 1)"),
        (b"5 2\na 1 2\nb 3 4\n", ": the header announces 5 words, the file holds 2 (truncated?)"),
        (b"2 9999999\na 1 2\n", ":1: a header dimension of 9999999 (1 to 4096 expected)"),
        (b"", ": holds no word vectors"),
    ],
)
def test_a_broken_text_file_is_refused_naming_the_place(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "vectors.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match="^" + re.escape(f"{path}{message}") + "$"):
        read_vectors(path)


def test_a_broken_binary_file_is_refused(tmp_path: Path) -> None:
    binary = write_word2vec_binary(tmp_path / "vectors.bin")
    data = binary.read_bytes()
    binary.write_bytes(data[:-10])
    with pytest.raises(DataError, match=re.escape(f"{binary}: word 6: the file ends inside a vector (truncated?)")):
        read_vectors(binary)
    binary.write_bytes(b"9 3\n" + data[data.index(b"\n") + 1 :])  # a header that lies about the count
    with pytest.raises(DataError, match=re.escape(f"{binary}: word 7: the file ends; the header announces 9 words")):
        read_vectors(binary)
    binary.write_bytes(data.replace(b"flights", b"fl\xffghts"))
    with pytest.raises(DataError, match=re.escape(f"{binary}: word 5: not UTF-8")):
        read_vectors(binary)


def test_a_missing_file_and_a_broken_own_format(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'nope.txt'}: no such vectors file")):
        read_vectors(tmp_path / "nope.txt")
    own = tmp_path / "own"
    own.mkdir()
    (own / "words.txt").write_text("a\nb\nc\n", encoding="utf-8")
    np.save(own / "vectors.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(DataError, match=re.escape(f"{own / 'words.txt'}:3: more words than the 2 rows")):
        read_vectors(own)
    (own / "words.txt").write_text("a\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{own / 'words.txt'}: 1 words for the 2 rows of vectors.npy")):
        read_vectors(own)


def test_the_width_is_read_from_the_first_row_alone(tmp_path: Path) -> None:
    glove = write_glove(tmp_path / "glove.txt")
    with glove.open("a", encoding="utf-8") as handle:
        handle.write("broken 1\n")  # never reached
    binary = write_word2vec_binary(tmp_path / "vectors.bin")
    assert vector_dim(glove) == vector_dim(binary) == 3
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DataError, match="holds no word vectors"):
        vector_dim(tmp_path / "empty.txt")


def test_a_cut_gzip_file_is_refused(tmp_path: Path) -> None:
    gz = tmp_path / "cc.en.300.vec.gz"
    gz.write_bytes(gzip.compress(("6 3\n" + "\n".join(_text_lines()) + "\n").encode())[:-12])
    with pytest.raises(DataError, match=re.escape(f"{gz}: the compressed file ends early (truncated?)")):
        read_vectors(gz)
