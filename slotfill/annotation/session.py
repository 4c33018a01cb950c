"""An annotation session: the model's parse of each utterance, most doubtful first, accepted or
corrected by a person, every decision appended at once to a file in the span format `train` reads.

The output file is the session's memory: each line is one decision, whole
(`{"text", "intent", "slots": [{"start", "end", "slot"}], "annotation": {"model", "decision"}}`),
written with one write and flushed, so a session killed at any moment leaves every decision made
before it; a session on an existing output resumes (the texts it holds are not asked again), and a
line cut by a crash mid-write is dropped when the file is opened. `decision` is `accepted`,
`corrected` or `skipped`; the span reader leaves skipped lines out of training data. A file written
by another model's session is refused: its answers were to another model's questions.

Commands (one line each; token numbers are those shown, from 1):
    Enter           accept the parse as shown (with the corrections made so far)
    l N LABEL       give slot N another label          d N       remove slot N
    a LABEL I-J     a new slot over tokens I..J        a LABEL = some words   a new slot over those words
    i INTENT        change the intent                  s         skip this utterance
    u               undo the last decision             q         quit
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slotfill.annotation.doubt import DOUBT_DEFAULT, doubt, most_doubtful_first
from slotfill.choices import OUT_OF_SCOPE_LABEL
from slotfill.data.context import NO_CONTEXT, Context, context_from_json
from slotfill.errors import DataError
from slotfill.files import atomic_write_text
from slotfill.text.tokenise import tokenise

# uncertain: the parses the model doubts most first; rejected: those it rejects as out of its scope
# first (then the most doubtful); input: the file's order
ORDERS = ("uncertain", "rejected", "input")
DECISIONS = ("accepted", "corrected", "skipped")


def model_fingerprint(config_yaml: str, vocab: Mapping[str, Any]) -> str:
    """What identifies a model's questions: its config and vocabulary (16 hex digits of their sha256)."""
    digest = hashlib.sha256(config_yaml.encode("utf-8") + json.dumps(vocab, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass
class Item:
    """One utterance under annotation: its text, tokens, and the slots and intent as they stand."""

    text: str
    slots: list[dict[str, Any]]  # {"slot", "start", "end", ...}, in text order
    intent: str | None
    parsed: dict[str, Any] = field(default_factory=dict)  # the model's parse, as it was shown
    changed: bool = False
    context: dict[str, Any] | None = None  # the dialogue context it answers ({"requested_slots": [...]}), kept

    @property
    def tokens(self) -> list[Any]:
        return tokenise(self.text)

    def record(self, model: str, decision: str) -> dict[str, Any]:
        slots = [
            {"start": s["start"], "end": s["end"], "slot": s["slot"]}
            for s in sorted(self.slots, key=lambda s: s["start"])
        ]
        record = {"text": self.text, "intent": self.intent, "slots": slots}
        if self.context:
            record["context"] = self.context
        return {**record, "annotation": {"model": model, "decision": decision}}


def read_decisions(path: Path, model: str) -> list[dict[str, Any]]:
    """The decisions already in `path` (none when it does not exist); a last line cut mid-write is
    dropped from the file. DataError naming the line when a line is not a decision of this model."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):  # the process died mid-write: the line is not a decision
        raw = raw[: raw.rfind(b"\n") + 1]
        atomic_write_text(path, raw.decode("utf-8", errors="strict"))
    decisions = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"{path}:{number}: not a line of the span format (not JSON)") from None
        annotation = record.get("annotation") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not isinstance(annotation, dict):
            raise DataError(f"{path}:{number}: not a decision of an annotation session (span format with 'annotation')")
        if annotation.get("model") != model:
            raise DataError(
                f"{path}:{number}: written by another model's session (model {annotation.get('model')}, "
                f"this one is {model}): give another --output"
            )
        decisions.append(record)
    return decisions


class Session:
    """The queue of utterances and the decisions on them; no terminal here (slotfill.cli.annotate)."""

    def __init__(
        self,
        parses: list[dict[str, Any]],
        output: Path,
        model: str,
        order: str = "uncertain",
        min_confidence: float | None = None,
        out_of_scope: str = OUT_OF_SCOPE_LABEL,
    ) -> None:
        """`out_of_scope`: the model's label of out-of-scope utterances (out_of_scope.intent): an
        utterance it rejects as out of scope is written with it when accepted as it is."""
        if order not in ORDERS:
            raise DataError(f"--order {order!r}: expected one of {', '.join(ORDERS)}")
        self.output, self.model, self.out_of_scope = Path(output), model, out_of_scope
        self.decided = read_decisions(self.output, model)
        asked = {_turn_key(record) for record in self.decided}  # decided, or already in the queue
        indices = most_doubtful_first(parses, DOUBT_DEFAULT) if order != "input" else list(range(len(parses)))
        if order == "rejected":  # stable: the rejected in order of doubt, then the others
            indices.sort(key=lambda i: "rejected" not in parses[i])
        sure = (lambda p: 1.0 - doubt(p) >= min_confidence) if min_confidence is not None else (lambda p: False)
        self.queue = []
        for parsed in (parses[i] for i in indices):
            if _turn_key(parsed) not in asked and not sure(parsed):  # a turn typed twice is asked once
                self.queue.append(parsed)
                asked.add(_turn_key(parsed))
        self.position = 0
        self.current = self._item()

    def _item(self) -> Item | None:
        if self.position >= len(self.queue):
            return None
        parsed = self.queue[self.position]
        slots = [dict(s) for s in parsed.get("slots", [])] + [dict(s) for s in parsed.get("low_confidence", [])]
        intent = self.out_of_scope if parsed.get("rejected") == "out_of_scope" else parsed.get("intent")
        return Item(
            parsed["text"], sorted(slots, key=lambda s: s["start"]), intent, parsed, context=parsed.get("context")
        )

    @property
    def remaining(self) -> int:
        return len(self.queue) - self.position

    def command(self, line: str) -> str | None:
        """Apply one command line; returns a message for the person (None: nothing to say).
        Bad commands are messages, never exceptions."""
        item = self.current
        if item is None:
            return "nothing left to annotate"
        words = line.strip().split()
        if not words:
            return self._decide("corrected" if item.changed else "accepted")
        verb, args = words[0].lower(), words[1:]
        handlers: dict[str, Callable[[Item, list[str], str], str | None]] = {
            "s": lambda it, a, raw: self._decide("skipped"),
            "u": lambda it, a, raw: self._undo(),
            "d": self._delete,
            "l": self._relabel,
            "a": self._add,
            "i": self._intent,
        }
        handler = handlers.get(verb)
        if handler is None:
            return (
                f"unknown command {words[0]!r}: Enter, l N LABEL, d N, a LABEL I-J, a LABEL = words, i INTENT, s, u, q"
            )
        return handler(item, args, line)

    def _slot_number(self, item: Item, text: str) -> int | str:
        if not text.isdigit() or not 1 <= int(text) <= len(item.slots):
            return (
                f"no slot {text!r}: the slots are numbered 1 to {len(item.slots)}" if item.slots else "there is no slot"
            )
        return int(text) - 1

    def _delete(self, item: Item, args: list[str], raw: str) -> str | None:
        if len(args) != 1:
            return "d N: the number of the slot to remove"
        number = self._slot_number(item, args[0])
        if isinstance(number, str):
            return number
        removed = item.slots.pop(number)
        item.changed = True
        return f"removed {removed['slot']} ({item.text[removed['start'] : removed['end']]!r})"

    def _relabel(self, item: Item, args: list[str], raw: str) -> str | None:
        if len(args) != 2:
            return "l N LABEL: the slot's number and its label"
        number = self._slot_number(item, args[0])
        if isinstance(number, str):
            return number
        item.slots[number]["slot"] = args[1]
        item.slots[number].pop("confidence", None)  # the model's was for its own label: now it is yours
        item.changed = True
        return None

    def _intent(self, item: Item, args: list[str], raw: str) -> str | None:
        if len(args) != 1:
            return "i INTENT: one intent label"
        item.intent, item.changed = args[0], True
        return None

    def _add(self, item: Item, args: list[str], raw: str) -> str | None:
        tokens = item.tokens
        if len(args) >= 3 and args[1] == "=":
            found = _find_words(tokens, args[2:], item.text)
            if found is None:
                return f"{' '.join(args[2:])!r} is not a run of the utterance's tokens"
            first, last = found
        elif len(args) == 2 and "-" in args[1] or len(args) == 2 and args[1].isdigit():
            start, _, end = args[1].partition("-")
            if not (start.isdigit() and (end or start).isdigit()):
                return f"{args[1]!r}: token numbers I-J, e.g. 3-4"
            first, last = int(start) - 1, int(end or start) - 1
            if not 0 <= first <= last < len(tokens):
                return f"tokens {args[1]}: the utterance has tokens 1 to {len(tokens)}"
        else:
            return "a LABEL I-J (token numbers) or a LABEL = the words"
        start, end = tokens[first].start, tokens[last].end
        if any(s["start"] < end and start < s["end"] for s in item.slots):
            return f"{item.text[start:end]!r} overlaps a slot: remove that one first (d N)"
        item.slots.append({"slot": args[0], "start": start, "end": end})
        item.slots.sort(key=lambda s: s["start"])
        item.changed = True
        return None

    def _decide(self, decision: str) -> str | None:
        item = self.current
        assert item is not None
        record = item.record(self.model, decision)
        _append_line(self.output, json.dumps(record, ensure_ascii=False))
        self.decided.append(record)
        self.position += 1
        self.current = self._item()
        return None

    def _undo(self) -> str | None:
        if not self.decided or self.position == 0:
            return "nothing to undo in this session"
        last = self.decided.pop()
        lines = self.output.read_text(encoding="utf-8").splitlines(keepends=True)
        atomic_write_text(self.output, "".join(lines[:-1]))
        self.position -= 1
        self.current = self._item()
        return f"undone: {last['text']!r} ({last['annotation']['decision']})"


def _append_line(path: Path, line: str) -> None:
    """One whole line, in one write, flushed to the disk before the next question."""
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _find_words(tokens: list[Any], words: list[str], text: str) -> tuple[int, int] | None:
    """The first run of tokens whose texts are `words` (case-insensitive)."""
    wanted = [w.lower() for w in words]
    texts = [t.text.lower() for t in tokens]
    for first in range(len(texts) - len(wanted) + 1):
        if texts[first : first + len(wanted)] == wanted:
            return first, first + len(wanted) - 1
    return None


def _turn_key(record: dict[str, Any]) -> tuple[str, str]:
    """What makes two utterances one question: the text and the context it answers ("13" after
    "how many people?" is not "13" after "what time?")."""
    return record["text"], json.dumps(record.get("context") or {}, sort_keys=True)


def read_utterances(path: Path) -> Iterable[tuple[str, Context]]:
    """(text, context) of each utterance: one a line; a JSON-lines file (a `serve --log-requests`
    log, span data) gives each line's "text" and "context"."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise DataError(f"{path}:{number}: a line that starts with '{{' is not JSON") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise DataError(f"{path}:{number}: a JSON line needs a 'text' string")
            yield record["text"], context_from_json(record.get("context"), f"{path}:{number}")
        else:
            yield line, NO_CONTEXT
