import json
from pathlib import Path

import pytest

from slotfill.data.example import Example
from slotfill.data.formats import read_split
from slotfill.errors import DataError

from ..conftest import DEMO


def write_atis(directory: Path, tokens: str, tags: str, labels: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "seq.in").write_text(tokens)
    (directory / "seq.out").write_text(tags)
    if labels is not None:
        (directory / "label").write_text(labels)
    return directory


def test_demo_splits_read() -> None:
    sizes = {split: len(read_split(DEMO / split)) for split in ("train", "dev", "test")}
    assert sizes == {"train": 2400, "dev": 300, "test": 300}
    example = read_split(DEMO / "train")[0]
    assert len(example.tokens) == len(example.tags) and example.intent and example.intent.startswith("atis_")


def test_atis_reader(tmp_path: Path) -> None:
    split = write_atis(
        tmp_path / "s", "fly to boston\nleave new york\n", "O O B-to\nO B-from I-from\n", "atis_flight\natis_flight\n"
    )
    assert read_split(split) == [
        Example(("fly", "to", "boston"), ("O", "O", "B-to"), "atis_flight"),
        Example(("leave", "new", "york"), ("O", "B-from", "I-from"), "atis_flight"),
    ]


def test_atis_without_label_file_has_no_intents(tmp_path: Path) -> None:
    split = write_atis(tmp_path / "s", "fly to boston\n", "O O B-to\n")
    assert read_split(split)[0].intent is None


def test_conll_reader_with_intents_and_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_bytes("\ufeff# intent = atis_flight\r\nfly O\r\nto O\r\nboston B-to\r\n\r\nhi O\r\n".encode())
    assert read_split(path) == [
        Example(("fly", "to", "boston"), ("O", "O", "B-to"), "atis_flight"),
        Example(("hi",), ("O",), None),
    ]


def test_jsonl_reader(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"tokens": ["to", "taipei"], "tags": ["O", "B-to"], "intent": "atis_flight"}) + "\n\n")
    assert read_split(path) == [Example(("to", "taipei"), ("O", "B-to"), "atis_flight")]


def test_orphan_inside_tags_are_repaired_or_rejected(tmp_path: Path) -> None:
    split = write_atis(tmp_path / "s", "to new york\n", "O I-to I-to\n")
    assert read_split(split)[0].tags == ("O", "B-to", "I-to")
    with pytest.raises(DataError, match=r"seq.out:1: .*strict_bio"):
        read_split(split, strict_bio=True)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"seq.in": "a b c\n", "seq.out": "O O\n"}, r"seq.out:1: 3 tokens but 2 tags"),
        ({"seq.in": "a\nb\n", "seq.out": "O\n"}, r"seq.out: 1 lines but seq.in has 2"),
        ({"seq.in": "a\n", "seq.out": "X-y\n"}, r"seq.out:1: 'X-y' is not a BIO tag"),
        ({"seq.in": "a\n"}, r"seq.out: missing"),
        ({"seq.in": "", "seq.out": ""}, r"no sentences \(empty split\)"),
        ({"seq.in": "a\n", "seq.out": "O\n", "label": "x\ny\n"}, r"label: 2 lines but seq.in has 1"),
    ],
)
def test_malformed_atis(tmp_path: Path, files: dict[str, str], message: str) -> None:
    split = tmp_path / "s"
    split.mkdir()
    for name, text in files.items():
        (split / name).write_text(text)
    with pytest.raises(DataError, match=message):
        read_split(split)


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    split = tmp_path / "s"
    split.mkdir()
    (split / "seq.in").write_bytes(b"ok\nbad \xff byte\n")
    (split / "seq.out").write_text("O\nO O O\n")
    with pytest.raises(DataError, match=r"seq.in:2: not UTF-8 \(byte 0xff at column 5\)"):
        read_split(split)


def test_bad_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"], "tags": \n')
    with pytest.raises(DataError, match=r"x.jsonl:2: bad JSON"):
        read_split(path)


def test_jsonl_wrong_types(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"tokens": "a b", "tags": ["O"]}\n')
    with pytest.raises(DataError, match=r"x.jsonl:1: 'tokens' must be a list"):
        read_split(path)


def test_conll_line_without_tag(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text("fly O\nlonely\n")
    with pytest.raises(DataError, match=r"x.conll:2: expected a token and a tag"):
        read_split(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or directory"):
        read_split(tmp_path / "nope")


def test_format_must_fit_the_path(tmp_path: Path) -> None:
    (tmp_path / "f.conll").write_text("a O\n")
    with pytest.raises(DataError, match="an ATIS split is a directory"):
        read_split(tmp_path / "f.conll", "atis")


def test_blank_and_whitespace_only_lines_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    split = write_atis(tmp_path / "s", "fly to boston\n  \t \nto rome\n", "O O B-to\n\nO B-to\n")
    assert [e.tokens for e in read_split(split)] == [("fly", "to", "boston"), ("to", "rome")]
    assert "seq.in:2: blank line skipped" in caplog.text


def test_tabs_separate_tokens_in_atis_and_conll_but_are_refused_inside_jsonl_tokens(tmp_path: Path) -> None:
    split = write_atis(tmp_path / "s", "fly\tto boston\n", "O\tO B-to\n")
    assert read_split(split)[0].tokens == ("fly", "to", "boston")
    conll = tmp_path / "x.conll"
    conll.write_text("fly\tO\n \t \nto\tB-to\n")
    assert [e.tokens for e in read_split(conll)] == [("fly",), ("to",)]
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text(json.dumps({"tokens": ["new\tyork"], "tags": ["B-to"]}) + "\n")
    with pytest.raises(DataError, match=r"x.jsonl:1: token 1 \('new\\tyork'\) contains whitespace"):
        read_split(jsonl)


def test_repairs_are_counted_in_one_warning_per_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    split = write_atis(tmp_path / "s", "to new york\nto la\n", "O I-to I-to\nO I-to\n")
    read_split(split)
    assert "repaired 2 I- tags" in caplog.text


def test_the_model_view_of_an_example_leaves_punctuation_out() -> None:
    from slotfill.data.example import Example, without_punctuation

    example = Example(("to", "washington", ",", "d.c.", "?"), ("O", "B-city", "I-city", "I-city", "O"), "x")
    assert without_punctuation(example) == (Example(("to", "washington", "d.c."), ("O", "B-city", "I-city"), "x"), 0)
    leading = Example(("“", "boston", "”"), ("B-city", "I-city", "O"))
    assert without_punctuation(leading) == (Example(("boston",), ("B-city",)), 0)  # the I- that follows begins the slot
    alone = Example(("fly", "!", "now"), ("O", "B-mood", "O"))
    assert without_punctuation(alone) == (Example(("fly", "now"), ("O", "O")), 1)
    plain = Example(("fly",), ("O",))
    assert without_punctuation(plain) == (plain, 0)
