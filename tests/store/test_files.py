from pathlib import Path

from slotfill.files import atomic_write_text, replace_dir, staging_dir


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_replace_dir_swaps_whole_directories(tmp_path: Path) -> None:
    target = tmp_path / "model"
    for version in ("old", "new"):
        staged = staging_dir(target)
        (staged / "weights").write_text(version)
        (staged / version).write_text("")
        replace_dir(staged, target)
    assert sorted(p.name for p in target.iterdir()) == ["new", "weights"]
    assert (target / "weights").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
