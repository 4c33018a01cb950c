"""The request and response bodies of the HTTP API (pydantic): what /docs shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from slotfill.choices import MAX_ALTERNATIVES, REJECTION_REASONS
from slotfill.data.context import MAX_REQUESTED_SLOTS


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return text


Text = Annotated[str, AfterValidator(_utf8)]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alternatives: int = Field(0, ge=0, le=MAX_ALTERNATIVES, description="the k best intents and tag sequences")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0, description="slots below it go to low_confidence")
    min_intent_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="reject an utterance whose intent confidence is below it (default: the model's threshold; 0: none)",
    )
    now: str | None = Field(
        None, description="ISO 8601 reference time for relative values (default: the time of the request)"
    )
    values: bool = Field(True, description="resolve slot values and the frame")


class Context(BaseModel):
    """The dialogue state a text answers (docs/dialogue-context.md)."""

    model_config = ConfigDict(extra="forbid")
    requested_slots: list[str] = Field(
        default_factory=list,
        max_length=MAX_REQUESTED_SLOTS,
        description="the slots the system just asked for, e.g. ['people'] after 'for how many people?'",
    )


class ParseRequest(Options):
    text: Text
    context: Context | None = None


class BatchRequest(Options):
    texts: list[Text]
    contexts: list[Context | None] | None = Field(None, description="one per text, in order (null: none)")


class Slot(BaseModel):
    slot: str
    text: str
    start: int
    end: int
    confidence: float
    value: dict[str, Any] | None = None


class AlternativeSlot(BaseModel):
    slot: str
    text: str
    start: int
    end: int
    value: dict[str, Any] | None = None


class RankedIntent(BaseModel):
    intent: str
    confidence: float


class Alternative(BaseModel):
    probability: float
    tags: list[str]
    slots: list[AlternativeSlot]


class Parse(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    slots: list[Slot]
    low_confidence: list[Slot] | None = None
    frame: dict[str, dict[str, Any]] | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    rejected: Literal[REJECTION_REASONS] | None = Field(  # type: ignore[valid-type]
        None, description="why the intent is null: the utterance is out of the model's scope, or ambiguous"
    )
    intents: list[RankedIntent] | None = None
    alternatives: list[Alternative] | None = None
    warnings: list[str] | None = Field(
        None, description="what of the request the model could not read (a requested slot it does not know)"
    )


class BatchResponse(BaseModel):
    results: list[Parse]
