"""A full disk, a file-size limit: every command that writes says so in one line (exit 2) and
leaves nothing half-written (issue 19). The full disk is a 64 KB tmpfs, mounted for the test."""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import DEMO, ROOT


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:  # not root, or no mount in this sandbox: the fault cannot be made here
        pytest.skip(f"cannot mount a small tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def slotfill(*args: str | Path, limit_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    command = [sys.executable, "-m", "slotfill.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=limit)


def assert_one_line(result: subprocess.CompletedProcess[str], where: Path, reason: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {where}: cannot write ({reason})"]


def local_copy(root: Path) -> Path:
    """A dataset `tiny` laid out as published (the demo data) and the registry of its checksums."""
    import hashlib

    lines = []
    for split in ("train", "dev", "test"):
        for name in ("seq.in", "seq.out", "label"):
            path = root / "tiny" / split / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((DEMO / split / name).read_bytes())
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  tiny/{split}/{name}\n")
    (root / "SHA256SUMS").write_text("".join(lines))
    return root


def test_a_full_disk_is_one_line_for_every_writer(full_disk: Path, trained_run: Path, tmp_path: Path) -> None:
    copy = local_copy(tmp_path / "copy")
    cases = [
        (["data", "convert", DEMO / "train", full_disk / "train.jsonl"], full_disk / "train.jsonl"),
        (["data", "convert", DEMO / "train", full_disk / "atis", "--to", "atis"], full_disk / "atis"),
        (["data", "download", "tiny", "--registry", copy / "SHA256SUMS", "--from", copy / "tiny", "--dir", full_disk], full_disk / "tiny"),
        (["export", trained_run, full_disk / "onnx"], full_disk / "onnx"),
        (["predict", trained_run, "--input", DEMO / "train" / "seq.in", "--output", full_disk / "p.jsonl"], full_disk / "p.jsonl"),
    ]  # fmt: skip
    for args, where in cases:
        assert_one_line(slotfill(*args), where, "No space left on device")
        assert list(full_disk.iterdir()) == []  # nothing half-written


def test_a_file_size_limit_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "train.jsonl"
    result = slotfill("data", "convert", DEMO / "train", target, limit_file_bytes=10_000)
    assert_one_line(result, target, "File too large")
    assert list(tmp_path.iterdir()) == []
