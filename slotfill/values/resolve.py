"""Slot values and frames: which resolver reads which slot (a config's `values:` rules), and how the
slots of one frame are read together.

- A slot's resolver is the first `values:` rule whose pattern (a glob over slot labels,
  `*.city_name`) matches its label; `none` resolves nothing; `entry` gives the canonical value of
  the list that claims the slot type (`gazetteers.NAME.slots`), `entry:NAME` that of list NAME.
- A frame is the slots whose labels share a prefix (`arrive_date.month_name` and
  `arrive_date.day_number`: frame `arrive_date`; a label without a dot is its own frame). Slots
  of a date, time or datetime resolver are read together as one text in sentence order, a time
  frame by its parts' roles (`time_relative`, `start_time`, `end_time`, `period_of_day`: "before"
  + "10 am" is a range, a lone `end_time` too), and when there are several they carry no value of
  their own: "november" alone is a month, with "2nd" it is a day. A frame of places takes its most specific
  place (an airport, else a city, which a state in the frame narrows, else a state); any other
  frame takes its slots' value when they agree, and is left out when they do not.

A resolver that fails on some text gives no value; a parse never fails for a value.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slotfill.config import rule_error, value_rules
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.values import numbers, temporal, times
from slotfill.values.kinds import Value
from slotfill.values.places import Places, list_entry, narrowed_city
from slotfill.values.typed import ValueOptions

TEMPORAL = {"date": temporal.resolve_date, "time": temporal.resolve_time, "datetime": temporal.resolve_datetime}
QUANTITIES: dict[str, Callable[[str], Value | None]] = {
    "number": numbers.number,
    "money": numbers.money,
    "percent": numbers.percent,
    "level": numbers.level,
    "temperature": numbers.temperature,
    "duration": numbers.duration,
}
PLACES = ("airport", "city", "state")  # most specific first
CACHE_SIZE = 65_536  # distinct (resolver, text) pairs kept per resolver set


def frame_key(label: str) -> str:
    return label.rsplit(".", 1)[0] if "." in label else label


def _role(label: str) -> str:
    return label.rsplit(".", 1)[-1]


class ValueResolver:
    """Resolves the slots of parses against a reference time; results are cached per distinct
    (resolver, text[, reference time]) so a stream of parses reads each text once."""

    def __init__(
        self,
        rules: Mapping[str, Any],
        gazetteers: GazetteerSet = GazetteerSet(),
        claims: Mapping[str, str] | None = None,
        places: Places | None = None,
    ) -> None:
        problem = rule_error(rules, gazetteers.names)
        if problem is not None:
            raise ConfigError(f"values: {problem}")
        self.rules = value_rules(rules)
        self.options = ValueOptions.of(rules)  # date order, hours, named days (slotfill.values.typed)
        self.gazetteers = gazetteers
        self.claims = dict(claims or {})  # slot type -> the list that claims it (config gazetteers.NAME.slots)
        self.places = places or Places()
        self._resolver_of: dict[str, str] = {}
        self._cache: dict[tuple[Any, ...], Value | None] = {}

    def resolver_of(self, label: str) -> str:
        """The resolver a label's slots get: the first matching rule's, else `none`."""
        found = self._resolver_of.get(label)
        if found is None:
            found = next((r for p, r in self.rules.items() if fnmatch.fnmatchcase(label, p)), "none")
            self._resolver_of[label] = found
        return found

    def value(self, resolver: str, text: str, now: datetime, label: str = "") -> Value | None:
        """What `resolver` reads in `text` (None: nothing), cached."""
        by_label = resolver in ("entry", "city")  # they read the list that claims the label's slot type
        key = (resolver, text, now if resolver in TEMPORAL else None, label if by_label else None)
        if key in self._cache:
            return self._cache[key]
        try:
            found = self._resolve(resolver, text, now, label)
        except Exception:  # noqa: BLE001 - a resolver's failure on odd text is no value, never a failed parse
            found = None
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _resolve(self, resolver: str, text: str, now: datetime, label: str) -> Value | None:
        if resolver in TEMPORAL:
            return TEMPORAL[resolver](text, now, self.options)
        if resolver in QUANTITIES:
            return QUANTITIES[resolver](text)
        if resolver == "city":
            return self._city(text, label)
        if resolver == "airport":
            return self.places.airport(text)
        if resolver == "state":
            return self.places.state(text)
        if resolver.startswith("entry"):
            return self._entry(resolver, text, label)
        return None

    def _lists_for(self, label: str) -> list[str]:
        claimed = self.claims.get(_role(label))
        return [claimed] if claimed else []

    def _city(self, text: str, label: str) -> Value | None:
        """A city of airportsdata (with its codes), else of the lists that claim the slot type
        (a city added with --gazetteer: no codes)."""
        entry = list_entry(self.gazetteers, [*self._lists_for(label), "city"], text)
        name = entry[1] if entry else text
        found = self.places.city(name)
        if found is not None:
            return found
        return {"kind": "city", "name": name, "country": None, "codes": []} if entry else None

    def _entry(self, resolver: str, text: str, label: str) -> Value | None:
        _, _, target = resolver.partition(":")
        entry = list_entry(self.gazetteers, [target] if target else self._lists_for(label), text)
        return None if entry is None else {"kind": "entry", "list": entry[0], "value": entry[1]}

    def resolve(self, slots: Sequence[Mapping[str, Any]], now: datetime) -> tuple[list[Value | None], dict[str, Value]]:
        """Each slot's own value (None: none) and the parse's frame, for slots in sentence order
        (dicts with "slot" and "text")."""
        resolvers = [self.resolver_of(slot["slot"]) for slot in slots]
        frames: dict[str, list[int]] = {}
        for index, slot in enumerate(slots):
            frames.setdefault(frame_key(slot["slot"]), []).append(index)
        values: list[Value | None] = [None] * len(slots)
        frame: dict[str, Value] = {}
        for key, members in frames.items():
            kinds = {resolvers[i] for i in members}
            if len(kinds) == 1 and (kind := next(iter(kinds))) in TEMPORAL:  # read together, by role
                found = self._composed(kind, [slots[i] for i in members], now)
                if len(members) == 1:
                    values[members[0]] = found
            else:
                for i in members:
                    values[i] = self.value(resolvers[i], slots[i]["text"], now, slots[i]["slot"])
                found = self._frame_value([values[i] for i in members], [resolvers[i] for i in members])
            if found is not None:
                frame[key] = found
        return values, frame

    def _composed(self, resolver: str, slots: Sequence[Mapping[str, Any]], now: datetime) -> Value | None:
        """The slots of one temporal frame read as one text: "november" + "2nd" -> "november 2nd";
        a time frame by its parts' roles ("before" + "10 am" + "morning" -> "before 10 am in the morning")."""
        if resolver == "time":
            return self.value(resolver, times.time_frame_text([(_role(s["slot"]), s["text"]) for s in slots]), now)
        return self.value(resolver, " ".join(slot["text"] for slot in slots), now)

    def _frame_value(self, values: Sequence[Value | None], resolvers: Sequence[str]) -> Value | None:
        by_kind: dict[str, Value] = {}
        for value, resolver in zip(values, resolvers):
            if value is not None and resolver in PLACES:
                by_kind.setdefault(value["kind"], value)
        if by_kind:
            if "airport" in by_kind:
                return by_kind["airport"]
            if "city" in by_kind:
                city = by_kind["city"]
                return narrowed_city(self.places, city, by_kind["state"]) if "state" in by_kind else city
            return by_kind.get("state")
        found = [value for value in values if value is not None]
        return found[0] if found and all(value == found[0] for value in found) and len(found) == len(values) else None
