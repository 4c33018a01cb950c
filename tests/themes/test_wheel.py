"""The wheel is complete: built from this checkout, installed without an editable install into a
fresh virtual environment, it downloads datasets against its shipped registry, prints its help and
tags with a committed fixture model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.slow


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    """A command with nothing of this environment's path settings: the fresh venv alone decides."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, env=env, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel alone; its dependencies are read from this environment's
    site-packages (a path line in a .pth, so this environment's editable install is not seen)."""
    root = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", root / "dist", ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("slotfill-*.whl")
    env_dir = root / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)
    assert installed.returncode == 0, installed.stderr
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir / "bin"


def test_the_wheel_holds_the_package_and_its_data(installed: Path) -> None:
    where = run(installed / "python", "-c", "import slotfill; print(slotfill.__file__)", cwd="/")
    assert str(installed.parent) in where.stdout, where.stdout + where.stderr  # the wheel's copy, not the checkout
    assert run(installed / "slotfill", "--help", cwd="/").returncode == 0


def test_data_download_checks_against_the_shipped_registry(installed: Path, tmp_path: Path) -> None:
    source = tmp_path / "atis"
    for split in ("train", "dev", "test"):
        (source / split).mkdir(parents=True)
        for name in ("seq.in", "seq.out", "label"):
            (source / split / name).write_text("not the real file\n")
    result = run(
        installed / "slotfill", "data", "download", "atis", "--from", source, "--dir", tmp_path / "cache", cwd="/"
    )
    # the registry was found and read: the files are refused for their checksums, in one line
    assert result.returncode == 2, result.stderr
    assert "its sha256 is not the registry's" in result.stderr and result.stderr.count("\n") == 1


def test_predict_with_a_fixture_model(installed: Path) -> None:
    fixture = ROOT / "tests" / "fixtures" / "model_v2"
    result = run(
        installed / "slotfill",
        "predict",
        fixture,
        "fly from boston to denver",
        "--device",
        "cpu",
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert parsed["text"] == "fly from boston to denver" and len(parsed["tags"]) == 5
