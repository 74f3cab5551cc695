"""Query parameters shared by routes, with every constraint stated in the OpenAPI document.

A parameter's pattern, enum or bounds here are the ones the domain enforces, so a request that matches
the document is refused only for a rule across parameters (a range that would give more than 10,000
points, ``end`` before ``start``), and those rules are written in the parameter's description.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from fastapi import Depends, Query

from upstat.names import NAME_PATTERN
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import AGGREGATES
from upstat.timeseries.shapes import ChartParams

_UNITS = "smhdwMy"
#: An interval: an integer (no leading zero, at most 9 digits) and a unit.
INTERVAL_PATTERN = rf"^[1-9][0-9]{{0,8}}[{_UNITS}]$"
RESOLUTION_PATTERN = rf"^(auto|raw|{'|'.join(tm.RESOLUTION_ALIASES)}|[1-9][0-9]{{0,8}}[{_UNITS}])$"
#: ISO 8601 (or 'YYYY-MM-DD H:M:S'): the pattern the time math parses (timemath.DATETIME_PATTERN).
DATETIME_PATTERN = tm.DATETIME_PATTERN

RANGE_RULES = (
    "Rules across parameters (answered 400 naming the parameter): `range` and `start`/`end` are not given "
    "together; `end` is after `start`; `end` needs `start`; dates are real calendar dates after 1970 and "
    "before 10000; a range and a resolution that would give more than 10,000 points are refused."
)


#: IANA time zones (one component of the OpenAPI document, referenced by every route with a ``tz``).
TimeZone = enum.Enum("TimeZone", {z: z for z in tm.TIME_ZONES}, type=str)  # type: ignore[misc]

Range = Annotated[
    str | None,
    Query(
        pattern=INTERVAL_PATTERN,
        description="A preset (1h 3h 6h 12h 24h 7d 30d 90d 1y) or any interval such as 45m, 2w; default "
        "24h. " + RANGE_RULES,
    ),
]
Start = Annotated[
    str | None,
    Query(
        pattern=DATETIME_PATTERN, description="ISO 8601 or 'YYYY-MM-DD H:M:S' (read in tz), instead of range"
    ),
]
End = Annotated[
    str | None,
    Query(pattern=DATETIME_PATTERN, description="ISO 8601 or 'YYYY-MM-DD H:M:S'; default now (needs start)"),
]
Resolution = Annotated[
    str | None,
    Query(
        pattern=RESOLUTION_PATTERN, description="auto (default), raw, 1m, 5m, 15m, 1h, 6h, 1d or any interval"
    ),
]
Aggregate = Annotated[
    Literal[AGGREGATES] | None,  # type: ignore[valid-type]
    Query(
        description="avg, sum, min, max, count, first, last; increase and rate need a counter series (rate "
        "is per second; the last bucket, still filling, divides by the time elapsed in it)"
    ),
]
Fill = Annotated[Literal["zero", "null", "previous"] | None, Query(description="How empty buckets read")]
Tz = Annotated[TimeZone, Query(description="IANA zone for daily and weekly buckets and local times")]
UTC = TimeZone("UTC")
Name = Annotated[str, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)]
OptionalName = Annotated[str | None, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)]


def chart_params(
    range: Range = None,
    start: Start = None,
    end: End = None,
    resolution: Resolution = None,
    aggregate: Aggregate = None,
    fill: Fill = None,
    tz: Tz = UTC,
    stats: bool = True,
    percentiles: bool = False,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> ChartParams:
    return ChartParams(range, start, end, resolution, aggregate, fill, tz.value, stats, percentiles, format)


Params = Annotated[ChartParams, Depends(chart_params)]
