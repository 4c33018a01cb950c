"""Property-based tests (hypothesis) on what must hold for any input."""

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotfill.data.formats import read_split
from slotfill.decoding.crf import BIOConstraints, NumpyCRF
from slotfill.errors import DataError
from slotfill.predict import Predictor
from slotfill.text import bio

TAGS = ["O", "B-a", "I-a", "B-b", "I-b", "B-c.d", "I-c.d"]


@settings(max_examples=60)
@given(st.integers(0, 2**31 - 1), st.lists(st.integers(1, 9), min_size=1, max_size=5), st.floats(0.1, 50))
def test_crf_decoding_always_returns_valid_bio(seed: int, lengths: list[int], scale: float) -> None:
    rng = np.random.default_rng(seed)
    start, transitions, end = (rng.standard_normal(shape).astype(np.float32) * scale for shape in ((7,), (7, 7), (7,)))
    crf = NumpyCRF(BIOConstraints.for_tags(TAGS), start, transitions, end)
    emissions = (rng.standard_normal((len(lengths), max(lengths), len(TAGS))) * scale).astype(np.float32)
    mask = np.arange(max(lengths))[None, :] < np.array(lengths)[:, None]
    for row, n in zip(crf.viterbi(emissions, mask).tolist(), lengths):
        assert bio.is_valid([TAGS[t] for t in row[:n]])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_predict_never_raises_on_arbitrary_unicode(trained_run: Path, text: str) -> None:
    parsed = _predictor(trained_run).parse(text)
    assert parsed["text"] == text and len(parsed["tags"]) == len(parsed["tokens"])
    for slot in parsed["slots"]:
        assert text[slot["start"] : slot["end"]] == slot["text"]


_PREDICTORS: dict[Path, Predictor] = {}


def _predictor(run: Path) -> Predictor:
    if run not in _PREDICTORS:
        _PREDICTORS[run] = Predictor.load(run, "cpu")
    return _PREDICTORS[run]


def test_predict_survives_hostile_text(trained_run: Path) -> None:
    predictor = _predictor(trained_run)
    long_line = " ".join(["fly to boston tomorrow"] * 1250)  # 5,000 tokens
    hostile = [
        "",
        "   \t\n ",
        long_line,
        "fly to 😀 tokyo 🛫",
        "我想从台北飞到东京",
        "\x00\x07\x1b[31m to paris \x7f",
        "leave Москва for القاهرة tomorrow",
        "a" * 10_000,
        "\u200b\u200d\ufeff",
    ]
    for text, parsed in zip(hostile, predictor.parse_many(hostile)):
        assert parsed["text"] == text and len(parsed["tags"]) == len(parsed["tokens"])
    assert len(predictor.parse(long_line)["tokens"]) == 5000


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(["atis", "conll", "jsonl"]))
def test_readers_raise_only_data_errors_on_arbitrary_bytes(
    tmp_path_factory, first: bytes, second: bytes, fmt: str
) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    if fmt == "atis":
        (directory / "seq.in").write_bytes(first)
        (directory / "seq.out").write_bytes(second)
        path = directory
    else:
        path = directory / f"data.{fmt}"
        path.write_bytes(first + second)
    try:
        examples = read_split(path, fmt)  # type: ignore[arg-type]
    except DataError as error:
        assert str(error).startswith(str(path))
        assert "\n" not in str(error)
    else:
        assert examples and all(len(e.tokens) == len(e.tags) and bio.is_valid(e.tags) for e in examples)
