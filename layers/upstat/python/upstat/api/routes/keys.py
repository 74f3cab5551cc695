"""API keys (admin): create (the token is shown once), list, show and revoke.

Responses never hold a token's digest, and the token only in the answer to its creation. A revoked key is
refused at once by the process that revoked it and by every other warm process within
``UPSTAT_KEY_CACHE_SECONDS`` (default 5 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from upstat import clock
from upstat.api.deps import Admin, RedisDep, SettingsDep
from upstat.api.errors import ErrorBody
from upstat.api.params import DATETIME_PATTERN
from upstat.api.schemas.sources import Slug
from upstat.auth import keys
from upstat.auth.tokens import PREFIX
from upstat.errors import InvalidInput, NotFound
from upstat.sources.store import require_organization
from upstat.timeseries.points import MICROSECONDS_LOOKALIKE, SECONDS_LOOKALIKE, check_epoch_ms
from upstat.timeseries.timemath import parse_datetime
from upstat.wire import Name, WholeInt

router = APIRouter(prefix="/v1/keys", tags=["keys"])

Scope = Literal["read", "write", "admin"]


class KeyCreate(BaseModel):
    """A new key. ``source`` makes it a source key (it uses only that source); ``organization`` binds it to
    an organization (it uses only that organization's sources)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "grafana", "scopes": ["read"]},
                {"name": "router-17", "scopes": ["write"], "source": "router-17", "expires_in_days": 365},
                {"name": "acme-dashboard", "scopes": ["read"], "organization": "acme"},
            ]
        },
    )

    name: Annotated[Name, Field(description="What the key is for")]
    scopes: list[Scope] = Field(min_length=1, description="read, write and/or admin (admin holds all)")
    source: Name | None = Field(
        None, description="Bind the key to this source (no admin scope then): it reads and writes only it"
    )
    organization: Slug | None = Field(
        None,
        description="Bind the key to this organization (no admin scope, no source then): it reads and writes "
        "only the sources registered in it. It must name an existing organization (400 otherwise).",
    )
    expires_in_days: WholeInt | None = Field(
        None, ge=1, le=3650, description="Expire this many days from now"
    )
    expires_at: Annotated[
        Any,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": DATETIME_PATTERN},
                    {"type": "integer", "minimum": SECONDS_LOOKALIKE, "maximum": MICROSECONDS_LOOKALIKE - 1},
                    {"type": "null"},
                ],
                "description": "Expire at this time: ISO 8601 (no offset = UTC) or epoch milliseconds. Rules "
                "across fields: in the future, at most 3650 days ahead; not together with expires_in_days; "
                "a source key cannot hold admin; an organization key cannot hold admin nor be a source key.",
            }
        ),
    ] = None


KEY_EXAMPLE: dict[str, Any] = {
    "key_id": "k3v9x2m4q7za",
    "hint": "upk_k3v9x2m4q7za_…",
    "name": "router-17",
    "scopes": ["write"],
    "source": "router-17",
    "organization": None,
    "status": "active",
    "created_at": "2026-01-01T00:00:00Z",
    "expires_at": "2027-01-01T00:00:00Z",
    "revoked_at": None,
    "last_used": "2026-03-01T12:00:00Z",
    "created_by": "admin-bootstrap",
}


class KeyPublic(BaseModel):
    """A key as listed: never its token nor the token's digest."""

    model_config = ConfigDict(json_schema_extra={"examples": [KEY_EXAMPLE]})

    key_id: str
    hint: str = Field(description="How the token starts, to recognise it")
    name: str
    scopes: list[Scope]
    source: str | None
    organization: str | None = Field(description="The organization it is bound to (its slug)")
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used: datetime | None = Field(description="Refreshed at most once a minute")
    created_by: str | None


class KeyCreated(KeyPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **KEY_EXAMPLE,
                    "last_used": None,
                    "token": "upk_k3v9x2m4q7za_Qm8rT2wXy5Zb7Nc4Vd1Ke6Hf9Jg3La0Ps2Uq8Wt5Yr7_x",
                }
            ]
        }
    )
    token: str = Field(description="The bearer token. Shown only in this answer: store it now")


class KeyList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count": 2,
                    "keys": [
                        {
                            **KEY_EXAMPLE,
                            "key_id": "a7c2n5p8r1tw",
                            "hint": "upk_a7c2n5p8r1tw_…",
                            "name": "grafana",
                            "scopes": ["read"],
                            "source": None,
                            "expires_at": None,
                        },
                        KEY_EXAMPLE,
                    ],
                }
            ]
        }
    )
    count: int
    keys: list[KeyPublic]


_time = keys.time_of


def public(record: keys.KeyRecord) -> KeyPublic:
    return KeyPublic(
        key_id=record.key_id,
        hint=f"{PREFIX}{record.key_id}_…",
        name=record.name,
        scopes=sorted(record.scopes),  # type: ignore[arg-type]
        source=record.source,
        organization=record.organization,
        status=record.state(clock.now_ms()),
        created_at=_time(record.created_at),  # type: ignore[arg-type]
        expires_at=_time(record.expires_at),
        revoked_at=_time(record.revoked_at),
        last_used=_time(record.last_used),
        created_by=record.created_by,
    )


def expiry_ms(body: KeyCreate, now: int) -> int | None:
    """Epoch ms of the expiry asked for (at most one of the two fields)."""
    if body.expires_in_days is not None and body.expires_at is not None:
        raise InvalidInput("expires_at: give expires_at or expires_in_days, not both", field="expires_at")
    if body.expires_in_days is not None:
        return now + int(timedelta(days=body.expires_in_days).total_seconds() * 1000)
    if isinstance(body.expires_at, str):
        return parse_datetime(body.expires_at, field="expires_at")
    if body.expires_at is not None:
        return check_epoch_ms(body.expires_at, field="expires_at")
    return None


@router.post(
    "",
    status_code=201,
    summary="Create a key: the token is in this answer only",
    responses={400: {"model": ErrorBody, "description": "A field breaks a rule; the message names it"}},
)
def create(
    body: KeyCreate, response: Response, client: RedisDep, settings: SettingsDep, caller: Admin
) -> KeyCreated:
    now = clock.now_ms()
    if body.organization is not None:
        require_organization(client, body.organization)
    record, token = keys.create_key(
        client,
        settings,
        name=body.name,
        scopes=body.scopes,
        source=body.source,
        organization=body.organization,
        expires_at=expiry_ms(body, now),
        created_by=caller.key_id,
        now=now,
    )
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(**public(record).model_dump(), token=token)


@router.get("", summary="List keys (without tokens)")
def list_all(client: RedisDep, settings: SettingsDep, _: Admin) -> KeyList:
    found = [public(r) for r in keys.list_keys(client, settings)]
    return KeyList(count=len(found), keys=found)


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No key with this id"}}


@router.get("/{key_id}", summary="One key (without its token)", responses=NOT_FOUND)
def show(key_id: str, client: RedisDep, settings: SettingsDep, _: Admin) -> KeyPublic:
    record = keys.get_key(client, settings, key_id)
    if record is None:
        raise NotFound(f"key_id: no key '{key_id}'", field="key_id")
    return public(record)


@router.delete("/{key_id}", summary="Revoke a key: refused from the next request on", responses=NOT_FOUND)
def revoke(key_id: str, client: RedisDep, settings: SettingsDep, _: Admin) -> KeyPublic:
    return public(keys.revoke_key(client, settings, key_id))
