"""Request and response shapes of the sources registry and organizations (upstat.api.routes.sources and
.organizations), with every rule the registry enforces stated in the schema (upstat.sources.models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from upstat.names import NAME_PATTERN
from upstat.sources import models as m
from upstat.wire import Name, StrictStr, name_type

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

Kind = Literal["device", "vpn-server", "exporter", "backup-server", "service"]
assert Kind.__args__ == m.KINDS  # type: ignore[attr-defined]

ORGANIZATION_RULE = (
    "It must name an existing organization (400 otherwise: create it with POST /v1/organizations)."
)
Slug = Annotated[StrictStr, Field(pattern=m.SLUG_PATTERN, description="An organization's slug")]
if TYPE_CHECKING:
    Segment200 = str
    Text = str
else:
    Segment200 = name_type(200, segment=True)  # a URL path segment: at most 200 characters, no '/'
    Text = Name  # at most 200 characters
SourceId = Annotated[
    Segment200,
    Field(
        description="The source's id: the engine's source name (its series are (id, metric)) and the id "
        "in URLs; not starting with service: (upstat's own)",
    ),
]
Degrees = Annotated[float, Strict()]
EXTRA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "maxProperties": m.MAX_EXTRA,
    "propertyNames": {"minLength": 1, "maxLength": m.MAX_EXTRA_NAME, "pattern": NAME_PATTERN},
    "additionalProperties": {"type": "string", "maxLength": m.MAX_EXTRA_VALUE},
}
ExtraValue = Annotated[StrictStr, Field(max_length=m.MAX_EXTRA_VALUE)]
Extra = Annotated[
    dict[str, ExtraValue],
    Field(
        max_length=m.MAX_EXTRA,
        description="A dialect's or an operator's own fields (text), e.g. Netflow's Name and Info",
        json_schema_extra=EXTRA_SCHEMA,
    ),
]
ExtraChange = Annotated[
    dict[str, ExtraValue | None],
    Field(
        max_length=m.MAX_EXTRA,
        description="Merged into the stored fields (JSON Merge Patch): a value replaces, null removes",
        json_schema_extra={
            **EXTRA_SCHEMA,
            "additionalProperties": {"anyOf": [EXTRA_SCHEMA["additionalProperties"], {"type": "null"}]},
        },
    ),
]


class LocationBody(BaseModel):
    """A position in degrees (WGS 84). Latitudes stop at ±85.05112878, where Redis GEO's map ends."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lat: Degrees = Field(ge=-m.MAX_LAT, le=m.MAX_LAT)
    lng: Degrees = Field(ge=-m.MAX_LNG, le=m.MAX_LNG)


SOURCE_EXAMPLE: dict[str, Any] = {
    "id": "edge-router",
    "name": "Edge router, Lyon",
    "kind": "device",
    "organization": "acme",
    "model": "TP-Link WDR4300",
    "group": "lyon",
    "location": {"lat": 45.764, "lng": 4.8357},
    "floorplan": "hq-1",
    "extra": {"os": "OpenWrt 23.05"},
}


class SourceCreate(BaseModel):
    """A source to register. Only ``kind`` is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                SOURCE_EXAMPLE,
                {"kind": "backup-server", "name": "nas-1"},
            ]
        },
    )

    id: SourceId | None = Field(None, description="Generated (a UUID) when absent")
    name: Text | None = Field(None, description="Shown to people; default the id")
    kind: Kind
    organization: Slug | None = Field(
        None, description="The organization it belongs to. " + ORGANIZATION_RULE
    )
    model: Text | None = None
    group: Text | None = None
    location: LocationBody | None = None
    floorplan: Text | None = None
    extra: Extra = Field(default_factory=dict)


class SourceUpdate(BaseModel):
    """The fields to change; null clears organization, model, group, location and floorplan."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Edge router (spare)", "group": None, "extra": {"os": None, "rack": "B2"}},
                {"location": {"lat": 48.8584, "lng": 2.2945}},
            ]
        },
    )

    name: Text = Field(None, description="Not null")  # type: ignore[assignment]
    kind: Kind = Field(None, description="Not null")  # type: ignore[assignment,arg-type]
    organization: Slug | None = Field(None, description=ORGANIZATION_RULE)
    model: Text | None = None
    group: Text | None = None
    location: LocationBody | None = None
    floorplan: Text | None = None
    extra: ExtraChange = Field(default_factory=dict)
    channels: list[Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] = Field(
        None,  # type: ignore[arg-type]
        max_length=20,
        description="Ids of the notification channels (/v1/channels) this source's health alerts go to (an "
        "OpenWISP device's health, a backup server's overdue jobs); empty: the channels marked default. Each "
        "must exist (400 naming it); not null",
    )

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, in the registry's words."""
        return self.model_dump(exclude_unset=True)


class LocationOut(BaseModel):
    lat: float
    lng: float


class SourcePublic(BaseModel):
    """A registered source."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**SOURCE_EXAMPLE, "createdAt": T0, "updatedAt": T0 + 60_000}]}
    )

    id: str
    name: str
    kind: Kind
    organization: str | None
    model: str | None
    group: str | None
    location: LocationOut | None
    floorplan: str | None
    extra: dict[str, str]
    channels: list[str] = Field(
        default_factory=list, description="Notification channels of its health alerts (empty: the defaults)"
    )
    createdAt: int = Field(description="epoch ms")
    updatedAt: int = Field(description="epoch ms")


class SourceCreated(SourcePublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **SOURCE_EXAMPLE,
                    "createdAt": T0,
                    "updatedAt": T0,
                    "key_id": "k3v9x2m4q7za",
                    "key": "upk_k3v9x2m4q7za_Qm8rT2wXy5Zb7Nc4Vd1Ke6Hf9Jg3La0Ps2Uq8Wt5Yr7_x",
                }
            ]
        }
    )

    key_id: str = Field(description="The source key's id (GET/DELETE /v1/keys/{key_id})")
    key: str = Field(
        description="A source key (read and write, this source only). Shown only in this answer: store it now"
    )


class SourceDeleted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"deleted": "edge-router", "series": 12, "keys_revoked": 1}]}
    )

    deleted: str
    series: int = Field(description="How many of its series were deleted")
    keys_revoked: int = Field(description="How many keys bound to it were revoked")


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"slug": "acme", "name": "Acme Networks"}]}
    )

    slug: Slug = Field(description="Unique; never changes (sources name their organization by it)")
    name: Text


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Acme Networks SA"}]})

    name: Text


ORGANIZATION_EXAMPLE: dict[str, Any] = {
    "id": "5c1e2f4a-9b7d-4e3f-8a1b-2c3d4e5f6a7b",
    "slug": "acme",
    "name": "Acme Networks",
    "createdAt": T0,
    "updatedAt": T0,
}


class OrganizationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ORGANIZATION_EXAMPLE]})

    id: str
    slug: str
    name: str
    createdAt: int = Field(description="epoch ms")
    updatedAt: int = Field(description="epoch ms")


class OrganizationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"count": 1, "organizations": [ORGANIZATION_EXAMPLE]}]}
    )

    count: int
    organizations: list[OrganizationPublic]


class OrganizationDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"deleted": ORGANIZATION_EXAMPLE["id"]}]})

    deleted: str = Field(description="The organization's id")
