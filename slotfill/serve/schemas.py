"""The request and response bodies of the HTTP API (pydantic): what /docs shows. A request's
options are slotfill.options.ParseOptions'; a response is slotfill.parses.Parse."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from slotfill.data.context import MAX_REQUESTED_SLOTS
from slotfill.options import ParseOptions, declared
from slotfill.parses import Parse


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return text


Text = Annotated[str, AfterValidator(_utf8)]


def _request_options() -> type[BaseModel]:
    """The parse options a request may give: slotfill.options.ParseOptions' fields, defaults,
    bounds and help (`now` as ISO 8601 text); no other key."""
    types = get_type_hints(ParseOptions)
    types["now"] = str | None  # a request gives the reference time as text
    fields: dict[str, Any] = {}
    for option in dataclasses.fields(ParseOptions):
        declaration = declared(ParseOptions, option.name)
        bounds = {"ge": declaration.low, "le": declaration.high}
        fields[option.name] = (
            types[option.name],
            Field(option.default, description=declaration.help, **{k: v for k, v in bounds.items() if v is not None}),
        )
    return create_model("Options", __config__=ConfigDict(extra="forbid"), **fields)


Options = _request_options()


class Context(BaseModel):
    """The dialogue state a text answers (docs/dialogue-context.md)."""

    model_config = ConfigDict(extra="forbid")
    requested_slots: list[str] = Field(
        default_factory=list,
        max_length=MAX_REQUESTED_SLOTS,
        description="the slots the system just asked for, e.g. ['people'] after 'for how many people?'",
    )


class ParseRequest(Options):  # type: ignore[valid-type,misc]
    text: Text
    context: Context | None = None


class BatchRequest(Options):  # type: ignore[valid-type,misc]
    texts: list[Text]
    contexts: list[Context | None] | None = Field(None, description="one per text, in order (null: none)")


class BatchResponse(BaseModel):
    results: list[Parse]
