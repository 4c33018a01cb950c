"""What a parse is, declared once: the JSON object `Predictor.parse` returns, `slotfill predict`
prints a line of and the server answers (its response schema, shown at /docs, is these types).

They are TypedDicts: a parse stays a plain dict (JSON-ready, as it always was), typed for the code
that builds and reads it; a key marked NotRequired is there only when the parse has it (with
--alternatives, --min-confidence, values, an intent head, a rejection, a context warning)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import NotRequired, TypedDict  # pydantic reads typing_extensions' on Python < 3.12

from slotfill.choices import REJECTION_REASONS

Rejected = Literal[REJECTION_REASONS]  # type: ignore[valid-type]


class Slot(TypedDict):
    """A slot: its label, its exact text and character offsets in the utterance."""

    slot: str
    text: str
    start: int
    end: int
    confidence: NotRequired[float]  # not in an alternative reading's slots
    value: NotRequired[dict[str, Any]]  # where its text resolves (docs/values.md)


class RankedIntent(TypedDict):
    intent: str
    confidence: float


class Alternative(TypedDict):
    """One of the k best tag sequences, with its slots."""

    probability: float
    tags: list[str]
    slots: list[Slot]


class Parse(TypedDict):
    text: str
    tokens: list[str]
    tags: list[str]
    slots: list[Slot]
    low_confidence: NotRequired[list[Slot]]
    frame: NotRequired[dict[str, dict[str, Any]]]
    intent: NotRequired[str | None]
    intent_confidence: NotRequired[float | None]
    rejected: NotRequired[
        Annotated[
            Rejected,
            Field(description="why the intent is null: the utterance is out of the model's scope, or ambiguous"),
        ]
    ]
    intents: NotRequired[list[RankedIntent]]
    alternatives: NotRequired[list[Alternative]]
    warnings: NotRequired[
        Annotated[
            list[str],
            Field(description="what of the request the model could not read (a requested slot it does not know)"),
        ]
    ]


class ParseError(TypedDict):
    """In a stream's place of an utterance over the limits (slotfill.options.Limits)."""

    error: str
