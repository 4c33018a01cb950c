"""How much a model doubts its parse of an utterance, and utterances ordered by it.

Two measures, both from what a parse already carries (with `alternatives=1`):
- `sequence`: 1 - P(best tag sequence) x P(intent): how likely the whole reading is wrong;
- `slot`: 1 - the lowest of its slot confidences and its intent confidence: its weakest part.
`scripts/bench/doubt.py` measures which finds more wrong parses in the first questions (docs/annotation.md); DOUBT_DEFAULT is the one it chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DOUBTS = ("sequence", "slot")
DOUBT_DEFAULT = "sequence"


def doubt(parsed: Mapping[str, Any], measure: str = DOUBT_DEFAULT) -> float:
    """0 (sure) to 1; a parse made with alternatives >= 1 (for `sequence`)."""
    intent = parsed.get("intent_confidence")
    intent = 1.0 if intent is None else float(intent)
    if measure == "sequence":
        alternatives = parsed.get("alternatives") or []
        best = alternatives[0]["probability"] if alternatives else 1.0
        return 1.0 - best * intent
    if measure == "slot":
        confidences = [slot["confidence"] for slot in [*parsed.get("slots", []), *parsed.get("low_confidence", [])]]
        return 1.0 - min([*confidences, intent])
    raise ValueError(f"doubt {measure!r}: expected one of {', '.join(DOUBTS)}")


def most_doubtful_first(parses: Sequence[Mapping[str, Any]], measure: str = DOUBT_DEFAULT) -> list[int]:
    """Indices of `parses`, most doubtful first; ties keep the input order."""
    scores = [doubt(parsed, measure) for parsed in parses]
    return sorted(range(len(parses)), key=lambda i: -scores[i])


def ranked(texts: Iterable[str], parses: Iterable[Mapping[str, Any]], measure: str = DOUBT_DEFAULT) -> list[dict]:
    """[{"index", "text", "doubt"}] most doubtful first."""
    texts, parses = list(texts), list(parses)
    return [
        {"index": i, "text": texts[i], "doubt": round(doubt(parses[i], measure), 4)}
        for i in most_doubtful_first(parses, measure)
    ]
