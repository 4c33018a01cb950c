"""Annotation sessions: the commands, the output file (whole lines, resumed, refused when another
model wrote it, readable by `train`), the order by doubt, and the real terminal session killed midway."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from slotfill.annotation.doubt import doubt, most_doubtful_first
from slotfill.annotation.session import Session, read_decisions, read_utterances
from slotfill.data.formats import read_split
from slotfill.errors import DataError

TEXT = "fly from boston to denver tomorrow"


def parse(text: str, slots: list[tuple[str, int, int, float]], intent: str = "atis_flight", p: float = 0.9) -> dict:
    return {
        "text": text,
        "slots": [{"slot": s, "text": text[a:b], "start": a, "end": b, "confidence": c} for s, a, b, c in slots],
        "intent": intent,
        "intent_confidence": 0.95,
        "alternatives": [{"probability": p, "tags": [], "slots": []}],
    }


PARSES = [
    parse(TEXT, [("fromloc.city_name", 9, 15, 0.99), ("toloc.city_name", 19, 25, 0.6)], p=0.5),
    parse("show me fares to rome", [("toloc.city_name", 17, 21, 0.98)], "atis_airfare", p=0.99),
    parse("hello there", [], "atis_flight", p=0.2),
]


def test_the_most_doubtful_come_first() -> None:
    assert most_doubtful_first(PARSES) == [2, 0, 1]
    assert most_doubtful_first(PARSES, "slot") == [0, 1, 2]  # its weakest slot: 0.6; ties keep the order
    assert doubt(PARSES[1]) == pytest.approx(1 - 0.99 * 0.95)


def test_commands_correct_the_parse_and_every_decision_is_a_line(tmp_path: Path) -> None:
    out = tmp_path / "corrected.jsonl"
    session = Session(PARSES, out, "m1", order="input")
    assert session.command("l 2 fromloc.city_name") is None  # now two fromloc: let us fix it back
    assert session.command("l 2 toloc.city_name") is None
    assert "confidence" not in session.current.slots[1]  # the model's was for its own label: shown as yours
    assert session.command("a depart_date.today_relative 6") is None
    assert session.command("") is None  # accepted with the corrections: "corrected"
    assert session.command("d 1").startswith("removed toloc.city_name")
    assert session.command("a toloc.city_name = rome") is None
    assert session.command("i atis_flight") is None
    assert session.command("") is None
    assert session.command("s") is None
    assert session.current is None and session.command("") == "nothing left to annotate"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [
        {
            "text": TEXT,
            "intent": "atis_flight",
            "slots": [
                {"start": 9, "end": 15, "slot": "fromloc.city_name"},
                {"start": 19, "end": 25, "slot": "toloc.city_name"},
                {"start": 26, "end": 34, "slot": "depart_date.today_relative"},
            ],
            "annotation": {"model": "m1", "decision": "corrected"},
        },
        {
            "text": "show me fares to rome",
            "intent": "atis_flight",
            "slots": [{"start": 17, "end": 21, "slot": "toloc.city_name"}],
            "annotation": {"model": "m1", "decision": "corrected"},
        },
        {
            "text": "hello there",
            "intent": "atis_flight",
            "slots": [],
            "annotation": {"model": "m1", "decision": "skipped"},
        },
    ]
    examples = read_split(out, "spans")  # what train reads: the skipped one is not data
    assert [e.tokens for e in examples] == [tuple(TEXT.split()), ("show", "me", "fares", "to", "rome")]
    assert examples[0].tags[-1] == "B-depart_date.today_relative"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("a toloc.city_name 9-12", "tokens 9-12: the utterance has tokens 1 to 6"),
        ("a toloc.city_name = paris", "'paris' is not a run of the utterance's tokens"),
        ("a toloc.city_name 5", "'denver' overlaps a slot: remove that one first (d N)"),
        ("d 7", "no slot '7': the slots are numbered 1 to 2"),
        ("l 1", "l N LABEL: the slot's number and its label"),
        ("x", "unknown command 'x'"),
        ("u", "nothing to undo in this session"),
    ],
)
def test_a_bad_command_is_a_message_not_an_exception(tmp_path: Path, command: str, message: str) -> None:
    session = Session(PARSES, tmp_path / "out.jsonl", "m1", order="input")
    reply = session.command(command)
    assert reply is not None and reply.startswith(message)
    assert not (tmp_path / "out.jsonl").exists()  # nothing was decided


def test_undo_resume_and_min_confidence(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    session = Session(PARSES, out, "m1")
    session.command("")  # "hello there" (most doubtful) accepted
    session.command("s")
    assert session.command("u").startswith("undone: 'fly from boston to denver tomorrow' (skipped)")
    assert len(out.read_text().splitlines()) == 1 and session.current.text == TEXT
    resumed = Session(PARSES, out, "m1")
    assert [p["text"] for p in resumed.queue] == [TEXT, "show me fares to rome"]  # the decided one is not asked
    repeated = Session([*PARSES, PARSES[0], PARSES[2]], tmp_path / "repeated.jsonl", "m1", order="input")
    assert [p["text"] for p in repeated.queue] == [TEXT, "show me fares to rome", "hello there"]  # each once
    sure = Session(PARSES, tmp_path / "other.jsonl", "m1", min_confidence=0.9)
    assert [p["text"] for p in sure.queue] == ["hello there", TEXT]  # 0.99 x 0.95 is sure: skipped


def test_an_output_of_another_model_or_format_is_refused_and_a_cut_line_dropped(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    Session(PARSES, out, "m1", order="input").command("")
    with pytest.raises(
        DataError, match=r"out.jsonl:1: written by another model's session \(model m1, this one is m2\)"
    ):
        Session(PARSES, out, "m2")
    with out.open("a") as handle:
        handle.write('{"text": "half a li')  # killed mid-write
    assert len(read_decisions(out, "m1")) == 1 and out.read_text().endswith("}\n")
    other = tmp_path / "plain.jsonl"
    other.write_text('{"text": "to rome", "slots": []}\n')
    with pytest.raises(DataError, match=r"plain.jsonl:1: not a decision of an annotation session"):
        Session(PARSES, other, "m1")


def test_utterances_come_from_text_or_from_a_request_log(tmp_path: Path) -> None:
    plain, log = tmp_path / "u.txt", tmp_path / "log.jsonl"
    plain.write_text("to rome\n\nfrom paris\n")
    log.write_text('{"time": "2026-12-01T09:00:00Z", "text": "to rome", "parse": {}}\n')
    assert [text for text, _ in read_utterances(plain)] == ["to rome", "from paris"]
    assert [text for text, _ in read_utterances(log)] == ["to rome"]
    turns = tmp_path / "turns.jsonl"
    turns.write_text('{"text": "13", "context": {"requested_slots": ["people"]}}\n13\n')
    assert [(text, context.requested_slots) for text, context in read_utterances(turns)] == [
        ("13", ("people",)),
        ("13", ()),
    ]


def test_a_terminal_session_killed_midway_keeps_every_decision(trained_run: Path, tmp_path: Path) -> None:
    """The real command on a pseudo-terminal: two decisions, then SIGKILL; the file holds both, whole."""
    import pty
    import select

    utterances = tmp_path / "u.txt"
    utterances.write_text("fly from boston to denver\nshow me fares to rome\nleave Taipei on November 2nd\n")
    out = tmp_path / "out.jsonl"
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "slotfill.cli",
                "annotate",
                str(trained_run),
                "--input",
                str(utterances),
                "--output",
                str(out),
                "--device",
                "cpu",
                "--order",
                "input",
            ],  # fmt: skip
        )
    output = b""

    def read_until(marker: bytes, timeout: float = 60.0) -> None:
        nonlocal output
        deadline = time.monotonic() + timeout
        while output.count(marker) < 1 and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                output += os.read(fd, 4096)

    read_until(b"> ")
    os.write(fd, b"\r")  # accept the first
    output = b""
    read_until(b"> ")
    os.write(fd, b"a test.slot = fares\r")
    output = b""
    read_until(b"> ")
    os.write(fd, b"\r")  # accept the corrected second
    output = b""
    read_until(b"> ")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["text"] for line in lines] == ["fly from boston to denver", "show me fares to rome"]
    assert {"start": 8, "end": 13, "slot": "test.slot"} in lines[1]["slots"]
    assert lines[1]["annotation"]["decision"] == "corrected"


def test_a_session_in_tmux_shows_the_parse_and_takes_commands(trained_run: Path, tmp_path: Path) -> None:
    """Under tmux, as a person sees it: the pane shows the utterance, its numbered tokens, each slot
    with its confidence and the intent; `d 1` answers in the pane; Enter and q end with the file."""
    import shutil
    import subprocess

    assert shutil.which("tmux"), "tmux is needed: `make test` installs it (Debian's tmux)"
    utterances, out = tmp_path / "u.txt", tmp_path / "out.jsonl"
    utterances.write_text("fly from boston to denver\n")
    tmux = ["tmux", "-L", f"slotfill-test-{os.getpid()}", "-f", "/dev/null"]
    program = Path(sys.executable).parent / "slotfill"
    command = f"{program} annotate {trained_run} --input {utterances} --output {out} --device cpu; sleep 60"

    def pane(until: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", "s"], capture_output=True, text=True).stdout
            if until in shown or time.monotonic() > deadline:
                return shown
            time.sleep(0.3)

    subprocess.run([*tmux, "new-session", "-d", "-s", "s", "-x", "100", "-y", "40", command], check=True)
    try:
        first = pane("intent: ")  # tmux drops the prompt's trailing space: wait for the line above it
        assert "fly from boston to denver" in first and "1:fly 2:from 3:boston 4:to 5:denver" in first
        assert "  1. fromloc.city_name = 'boston'  " in first and "intent: atis_flight (" in first
        subprocess.run([*tmux, "send-keys", "-t", "s", "d 1", "Enter"], check=True)
        assert "removed fromloc.city_name ('boston')" in pane("removed")
        subprocess.run([*tmux, "send-keys", "-t", "s", "Enter"], check=True)
        assert "1 decisions in" in pane("decisions in")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    (line,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert line["annotation"]["decision"] == "corrected"
    assert [s["slot"] for s in line["slots"]] == ["toloc.city_name"]
