"""The reference time relative expressions resolve against: `--now` (CLI), `now` (HTTP, Python),
else the current time; in `--timezone` / `timezone` (an IANA name), else the machine's zone."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotfill.errors import ConfigError


def zone(name: str | None, where: str = "--timezone") -> tzinfo:
    """The time zone `name` ("Europe/Paris", "UTC"), or the machine's when None."""
    if name is None:
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where} {name!r}: not a time zone name (e.g. Europe/Paris, America/New_York, UTC)"
        ) from None


def reference_time(now: str | datetime | None, timezone: str | tzinfo | None = None, where: str = "--now") -> datetime:
    """`now` as an aware datetime: an ISO 8601 text ("2026-12-01", "2026-12-01T09:00",
    "2026-12-01T09:00:00+01:00") or a datetime; without an offset it is read in `timezone`; with
    one and a `timezone`, it is moved into that zone. None: the current time."""
    place = timezone if isinstance(timezone, tzinfo) else zone(timezone)
    if now is None:
        return datetime.now(place)
    if isinstance(now, str):
        try:
            moment = datetime.fromisoformat(now.strip())
        except ValueError:
            raise ConfigError(
                f"{where} {now!r}: not an ISO 8601 date and time (e.g. 2026-12-01T09:00 or 2026-12-01T09:00:00+01:00)"
            ) from None
    else:
        moment = now
    if moment.tzinfo is None:
        return moment.replace(tzinfo=place)
    return moment.astimezone(place) if timezone is not None else moment
