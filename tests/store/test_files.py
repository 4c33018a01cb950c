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


# --- what `open(path, "wb")` would do stays true (issue 19: --output replaced what it should write into)


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic_write_text(fifo, "fly to boston\n")
    reader.join(timeout=10)
    assert received == [b"fly to boston\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    atomic_write_text(link, "new\n")
    assert (
        link.is_symlink()
        and real.read_text() == "new\n"
        and sorted(p.name for p in tmp_path.iterdir())
        == [
            "link.jsonl",
            "real.jsonl",
        ]
    )


def test_new_files_and_directories_follow_the_umask(tmp_path: Path) -> None:
    import os

    before = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        staged = staging_dir(tmp_path / "model")
        existing = tmp_path / "private.txt"
        existing.write_text("x")
        existing.chmod(0o600)
        atomic_write_text(existing, "y")
    finally:
        os.umask(before)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    assert staged.stat().st_mode & 0o777 == 0o755
    assert existing.stat().st_mode & 0o777 == 0o600  # an existing file keeps its own


def test_a_models_weights_follow_the_umask(trained_run: Path, tmp_path: Path) -> None:
    """safetensors' save_file wrote model.safetensors 0600: a service account could not load a model
    someone else trained."""
    import os

    import torch

    from slotfill.store.model_dir import load_model, save_model

    loaded = load_model(trained_run, torch.device("cpu"))
    before = os.umask(0o022)
    try:
        save_model(tmp_path / "model", loaded.config, loaded.vocab, loaded.gazetteers, loaded.tagger, {})
    finally:
        os.umask(before)
    modes = {path.name: path.stat().st_mode & 0o777 for path in (tmp_path / "model").iterdir() if path.is_file()}
    assert modes == dict.fromkeys(modes, 0o644) and "model.safetensors" in modes


def test_a_full_disk_or_a_vanished_directory_is_one_line(tmp_path: Path) -> None:
    import pytest

    from slotfill.errors import OutputError

    full = tmp_path / "full"
    full.symlink_to("/dev/full")  # writing into it fails with ENOSPC, as a full disk does
    with pytest.raises(OutputError, match=r"full: cannot write \(No space left on device\)"):
        atomic_write_text(full, "x" * 100_000)
    with pytest.raises(OutputError, match=r"gone/out.jsonl: cannot write"):
        atomic_write_text(tmp_path / "gone" / "out.jsonl", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written left
