"""Request and response shapes of /v1/rules (upstat.api.routes.rules), with each rule the parser
(upstat.rules.model) enforces stated in the schema or, across fields, in the body's description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from upstat.rules import model as m
from upstat.wire import Name, StrictStr, WholeInt

if TYPE_CHECKING:
    Text = str
else:
    Text = Name  # the name rule, at most 200 characters

T0 = 1_767_225_600_000
Aggregate = Literal["avg", "max", "min", "p95", "p99", "rate", "increase", "count", "absent"]
assert Aggregate.__args__ == m.AGGREGATES  # type: ignore[attr-defined]
Op = Literal[">", ">=", "<", "<=", "==", "!="]
Kind = Literal["device", "vpn-server", "exporter", "backup-server", "service"]
Window = Annotated[
    StrictStr,
    Field(
        pattern=r"^[1-9][0-9]{0,8}[smhdwMy]$",
        description="An interval (15m, 1h, 26h, 7d): whole buckets of the finest tier (5m by default), at "
        "least one, at most 400d",
    ),
]
Number = Annotated[float, Strict()]

RULES_TEXT = (
    "A rule is given either by `expression` (`aggregate(metric, window) [op threshold] [for N]`, e.g. "
    "`p95(response_ms, 15m) > 800 for 3`, `increase(bytes_received, 1h) < 1`, `absent(duration, 26h)`) "
    "or by the fields metric, aggregate, window, op, threshold and for; giving both is refused "
    "(`give the rule as an expression or as fields`). Exactly one of source and kind (`exactly one of the "
    "two`). Every aggregate but absent needs a comparison (`needs a comparison`); absent takes none "
    "(`takes no comparison`). A window must be whole buckets of the finest tier (`is shorter than the "
    "finest tier`, `is not a whole number of the finest tier's buckets`) and at most 400d (`is longer than "
    "400d`). An expression that does not parse is refused (`is not a rule`, `is not an aggregate`, `is not "
    "an interval`, `must be a whole number of evaluations`, `is not a number`, `must be a finite number`). "
    "increase and rate need a counter (`needs a counter series`) when the named series exists. A new rule "
    "needs its metric, aggregate and window (`give the rule's expression, or its`)."
)
EXAMPLE: dict[str, Any] = {
    "name": "slow API",
    "source": "api",
    "expression": "p95(response_ms, 15m) > 800 for 3",
    "channels": ["4f2a9c0d1e7b"],
}


class RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: Text | None = Field(None, description="The one source whose series the rule reads")
    kind: Kind | None = Field(None, description="Or: every registered source of this kind (new ones too)")
    expression: Annotated[StrictStr, Field(max_length=500)] | None = Field(
        None, description="The rule as one expression (instead of the fields below)"
    )
    metric: Text | None = None
    aggregate: Aggregate | None = None
    window: Window | None = None
    op: Op | None = None
    threshold: Number | None = None
    for_: Annotated[WholeInt, Field(ge=1, le=m.MAX_FOR)] | None = Field(
        None, alias="for", description="Evaluations in a row (one per rollup run, 5 minutes) before firing"
    )
    channels: Annotated[list[Text], Field(max_length=m.MAX_CHANNELS)] | None = Field(
        None, description="Channel ids to alert; empty: the default channels"
    )
    enabled: Annotated[bool, Strict()] | None = None

    def body(self) -> dict[str, Any]:
        """The fields the caller sent, by their JSON names."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class RuleCreate(RuleFields):
    __doc__ = f"A new rule. {RULES_TEXT}"
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [EXAMPLE]})
    name: Text


class RuleUpdate(RuleFields):
    __doc__ = (
        "The fields to change, the others kept: an expression replaces the whole condition, naming a source "
        "replaces a kind (and the other way round), a condition field set to null is dropped. A changed "
        "condition starts the series' states afresh. " + RULES_TEXT
    )
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{"enabled": False}]}
    )
    name: Text = Field(None, description="Not null")  # type: ignore[assignment]
    enabled: Annotated[bool, Strict()] = Field(None, description="Not null")  # type: ignore[assignment]
    channels: Annotated[list[Text], Field(max_length=m.MAX_CHANNELS)] = Field(
        None,  # type: ignore[arg-type]
        description="Not null: channel ids to alert; empty: the default channels",
    )


PUBLIC_EXAMPLE: dict[str, Any] = {
    **EXAMPLE,
    "id": "r0a1b2c3d4e5f",
    "kind": None,
    "metric": "response_ms",
    "aggregate": "p95",
    "window": "15m",
    "op": ">",
    "threshold": 800.0,
    "for": 3,
    "enabled": True,
    "createdAt": T0,
    "updatedAt": T0,
}
STATE_EXAMPLE: dict[str, Any] = {
    "source": "api",
    "state": "firing",
    "value": 912.5,
    "since": T0 + 900_000,
    "evaluatedAt": T0 + 1_800_000,
    "breaches": 5,
}


class SeriesStateOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [STATE_EXAMPLE]})

    source: str
    state: Literal["ok", "pending", "firing", "resolved"]
    value: float | None = Field(description="The aggregate at the last evaluation (null: no data)")
    since: int | None = Field(description="When it entered this state (epoch ms: the end of that window)")
    evaluatedAt: int = Field(description="The end of the last window evaluated (epoch ms)")
    breaches: int = Field(description="Evaluations in a row that breached")


class RulePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PUBLIC_EXAMPLE]})

    id: str
    name: str
    source: str | None
    kind: str | None
    expression: str
    metric: str
    aggregate: str
    window: str
    op: str | None
    threshold: float | None
    for_: int = Field(alias="for")
    channels: list[str]
    enabled: bool
    createdAt: int
    updatedAt: int


class RuleDetail(RulePublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{**PUBLIC_EXAMPLE, "series": [STATE_EXAMPLE]}]})

    series: list[SeriesStateOut] = Field(description="Each series evaluated, by source")


class RuleList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 1, "rules": [PUBLIC_EXAMPLE]}]})

    count: int
    rules: list[RulePublic]


class RuleDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"deleted": "r0a1b2c3d4e5f"}]})

    deleted: str
