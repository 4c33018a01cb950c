"""A mistyped data path gets the nearest real one, as mistyped commands and config keys do."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import DataError
from slotfill.files import no_such_path

from ..conftest import DEMO, ROOT


def test_the_nearest_name_in_the_folder_is_suggested(tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text("")
    assert no_such_path(tmp_path / "tset.jsonl") == (
        f"{tmp_path / 'tset.jsonl'}: no such file or directory (did you mean {tmp_path / 'test.jsonl'}?)"
    )
    assert no_such_path(tmp_path / "nothing_like_it") == f"{tmp_path / 'nothing_like_it'}: no such file or directory"
    assert no_such_path(tmp_path / "gone" / "test") == f"{tmp_path / 'gone' / 'test'}: no such file or directory"
    with pytest.raises(DataError, match=r"demo/tset: no such file or directory \(did you mean .*demo/test\?\)$"):
        read_split(DEMO / "tset")


def test_the_cli_says_it_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for command in (["data", "stats", "data/demo/tset"], ["data", "validate", "data/demo/tset"]):
        result = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 2
        assert result.stderr == ("error: data/demo/tset: no such file or directory (did you mean data/demo/test?)\n"), (
            result.stderr
        )
