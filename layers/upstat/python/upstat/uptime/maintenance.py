"""Maintenance windows: one-off (start, end) or recurring (weekdays + local start time + duration in a time
zone), per service or global. While a window is active, down checks change nothing: no down status, no
incident, no alert, and no ``up`` point in the engine (so they do not count against uptime).

:func:`in_maintenance` is pure (windows and ``now`` in, bool out); the store functions keep windows in one
hash per service (under the service's hash tag) and one global hash.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, Strict, WithJsonSchema, field_validator, model_validator
from pydantic.alias_generators import to_camel

from upstat.errors import InvalidInput
from upstat.store.keyspace import keyspace
from upstat.timeseries.points import MICROSECONDS_LOOKALIKE, SECONDS_LOOKALIKE, check_epoch_ms
from upstat.timeseries.timemath import TIME_ZONES
from upstat.uptime.keyspace import UptimeKeys
from upstat.wire import StrictStr, Text, WholeInt, pattern

#: A recurring window lasts at most a week (so at most one occurrence per weekday is ever active).
MAX_RECURRING_MINUTES = 7 * 24 * 60
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

#: Epoch milliseconds as the document states them (the validator refuses other units with a hint).
EPOCH_MS_BOUNDS: dict[str, Any] = {"minimum": SECONDS_LOOKALIKE, "exclusiveMaximum": MICROSECONDS_LOOKALIKE}

_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel, allow_inf_nan=False)


class Recurrence(BaseModel):
    """Every ``days`` (0 = Monday ... 6 = Sunday) at ``start`` ("HH:MM" local time in ``tz``) for
    ``duration_minutes``."""

    model_config = _CONFIG

    days: list[Annotated[WholeInt, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: Annotated[StrictStr, pattern(_HHMM.pattern)]
    duration_minutes: WholeInt = Field(ge=1, le=MAX_RECURRING_MINUTES)
    tz: Annotated[StrictStr, WithJsonSchema({"type": "string", "enum": TIME_ZONES, "default": "UTC"})] = "UTC"

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("start must be a local time HH:MM (00:00 to 23:59)")
        return value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"tz {value!r} is not an IANA time zone") from exc
        return value


class MaintenanceIn(BaseModel):
    """A window as a client sends it: ``start``/``end`` (epoch ms) for a one-off, or ``recurring``."""

    model_config = _CONFIG

    title: Text = Field("", max_length=200)
    start: WholeInt | None = Field(
        None,
        json_schema_extra=EPOCH_MS_BOUNDS,
        description="epoch ms. Rules across fields: a one-off window has start and end, end after start; a "
        "weekly one has recurring and neither",
    )
    end: WholeInt | None = Field(None, json_schema_extra=EPOCH_MS_BOUNDS, description="epoch ms, after start")
    recurring: Recurrence | None = None

    @field_validator("start", "end")
    @classmethod
    def _epoch_ms(cls, value: int | None, info: Any) -> int | None:
        """Epoch milliseconds; a time in seconds is refused with a hint, never read as 1970."""
        return None if value is None else check_epoch_ms(value, field=info.field_name)

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceIn:
        if self.recurring is None:
            if self.start is None or self.end is None:
                raise InvalidInput("a window needs start and end (epoch ms), or recurring", field="start")
            if self.end <= self.start:
                raise InvalidInput("end must be after start", field="end")
        elif self.start is not None or self.end is not None:
            raise InvalidInput("give either start/end or recurring, not both", field="recurring")
        return self


class Window(MaintenanceIn):
    """A stored window. ``service_id`` is None for a global window."""

    id: Annotated[str, Strict()]
    service_id: Annotated[str, Strict()] | None = None


def is_active(window: MaintenanceIn, now_ms: int) -> bool:
    """True when ``now_ms`` falls in the window (start inclusive, end exclusive)."""
    if window.recurring is None:
        assert window.start is not None and window.end is not None
        return window.start <= now_ms < window.end
    found = _recurring_occurrence(window.recurring, now_ms)
    return found is not None and found[0] <= found[2]


def occurrence(window: MaintenanceIn, now_ms: int) -> tuple[int, int] | None:
    """(start, end) in epoch ms of the window's occurrence in force at ``now_ms``, else of its next one (a
    status page announces it); None for a one-off window that has ended."""
    if window.recurring is None:
        assert window.start is not None and window.end is not None
        return (window.start, window.end) if now_ms < window.end else None
    found = _recurring_occurrence(window.recurring, now_ms)
    if found is None:
        return None
    begin, end, _ = found
    return int(begin.timestamp() * 1000), int(end.timestamp() * 1000)


def _recurring_occurrence(
    rec: Recurrence, now_ms: int
) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
    """(begin, end, now) local times of the earliest occurrence that has not ended at ``now_ms``: the one in
    force if any (it began up to a week ago at most), else the next one (within a week)."""
    zone = ZoneInfo(rec.tz)
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
    hour, minute = (int(x) for x in rec.start.split(":"))
    length = dt.timedelta(minutes=rec.duration_minutes)
    for offset in range(-7, 8):
        day = now.date() + dt.timedelta(days=offset)
        if day.weekday() not in rec.days:
            continue
        begin = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if now < begin + length:
            return begin, begin + length, now
    return None


def in_maintenance(windows: Iterable[MaintenanceIn], now_ms: int) -> bool:
    """True when any of ``windows`` is active at ``now_ms``."""
    return any(is_active(w, now_ms) for w in windows)


# ----------------------------------------------------------------------------------------------------
# Store


def _keys() -> UptimeKeys:
    return keyspace(UptimeKeys)


def _hash(keys: UptimeKeys, service_id: str | None) -> str:
    return keys.global_maintenance() if service_id is None else keys.maintenance(service_id)


def add_window(client: Any, data: MaintenanceIn | dict[str, Any], *, service_id: str | None = None) -> Window:
    """Store a window for one service (``service_id``) or for all (None); returns it with its id."""
    given = data if isinstance(data, MaintenanceIn) else MaintenanceIn.model_validate(data)
    window = Window.model_validate(
        {**given.model_dump(by_alias=True), "id": secrets.token_hex(6), "serviceId": service_id}
    )
    client.hset(_hash(_keys(), service_id), window.id, window.model_dump_json(by_alias=True))
    return window


def list_windows(client: Any, *, service_id: str | None = None) -> list[Window]:
    """The windows of one service (not the global ones), or the global ones when ``service_id`` is None."""
    raw = client.hvals(_hash(_keys(), service_id))
    return sorted((Window.model_validate_json(x) for x in raw), key=lambda w: (w.start or 0, w.id))


def delete_window(client: Any, window_id: str, *, service_id: str | None = None) -> bool:
    """Remove a window; False if there was none with that id."""
    return bool(client.hdel(_hash(_keys(), service_id), window_id))


def windows_for(client: Any, service_ids: Sequence[str]) -> dict[str, list[Window]]:
    """Each service's windows plus the global ones (one pipelined round trip)."""
    keys = _keys()
    pipe = client.pipeline(transaction=False)
    pipe.hvals(keys.global_maintenance())
    for service_id in service_ids:
        pipe.hvals(keys.maintenance(service_id))
    replies = pipe.execute()
    common = [Window.model_validate_json(x) for x in replies[0]]
    return {
        sid: common + [Window.model_validate_json(x) for x in raw]
        for sid, raw in zip(service_ids, replies[1:], strict=True)
    }
