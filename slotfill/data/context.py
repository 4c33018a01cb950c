"""The dialogue state a turn is parsed in: what the system just asked for (docs/dialogue-context.md).

After "for how many people?" the answer "13" is a party size; after "what time?" the same "13" is a
time. A turn's context names the slots the system requested (`{"requested_slots": ["people"]}`),
and a model trained with context reads them as an input (slotfill.nn.tagger). The key `context`
leaves room for more dialogue state later; every key it holds now is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from slotfill.errors import DataError

MAX_REQUESTED_SLOTS = 16  # a system asks for a few slots at once; more is not a dialogue turn
CONTEXT_KEYS = ("requested_slots",)


@dataclass(frozen=True)
class Context:
    """What the system asked for before this turn: the slot names it requested, in order, once each."""

    requested_slots: tuple[str, ...] = ()

    def to_json(self) -> dict[str, list[str]]:
        return {"requested_slots": list(self.requested_slots)}

    def __bool__(self) -> bool:
        return bool(self.requested_slots)


NO_CONTEXT = Context()


def context_from_json(value: object, where: str) -> Context:
    """A turn's `context` as read from JSON (None or absent: none); DataError, one line naming
    `where`, for anything else than an object whose `requested_slots` is a list of at most
    MAX_REQUESTED_SLOTS slot names."""
    if value is None:
        return NO_CONTEXT
    if not isinstance(value, dict):
        raise DataError(f'{where}: \'context\' must be an object such as {{"requested_slots": ["people"]}}')
    unknown = [key for key in value if key not in CONTEXT_KEYS]
    if unknown:
        raise DataError(
            f"{where}: context key {unknown[0]!r} is not one slotfill reads (it reads: {', '.join(CONTEXT_KEYS)})"
        )
    return requested_context(value.get("requested_slots"), where)


def requested_context(requested: object, where: str) -> Context:
    """A context of the requested slot names `requested` (a list of strings; None: none), checked."""
    if requested is None:
        return NO_CONTEXT
    if not isinstance(requested, list) or not all(isinstance(name, str) for name in requested):
        raise DataError(f"{where}: 'requested_slots' must be a list of slot names (strings)")
    if len(requested) > MAX_REQUESTED_SLOTS:
        raise DataError(f"{where}: {len(requested)} requested slots; at most {MAX_REQUESTED_SLOTS}")
    for name in requested:
        if not name.strip() or any(character.isspace() for character in name):
            raise DataError(f"{where}: requested slot {name!r} must be a slot name without spaces")
    return Context(tuple(dict.fromkeys(requested)))
