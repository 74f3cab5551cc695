"""``/v1/channels``: where alerts go (admin only: a channel holds credentials), a test message per channel,
and ``/v1/alerts``: the alerts sent, with each delivery's outcome (read scope: outcomes hold no secret)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from upstat.api.deps import Admin, Reader, RedisDep, SettingsDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.channels import (
    CHANNEL_EXAMPLE,
    AlertList,
    ChannelDeleted,
    ChannelList,
    ChannelView,
    TestResult,
)
from upstat.errors import Conflict
from upstat.notify.models import ChannelIn, ChannelUpdate
from upstat.notify.store import ChannelStore

router = APIRouter(tags=["notifications"])

ChannelId = Annotated[
    str, Path(alias="id", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Its id")
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such channel"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorBody,
        "description": "No channel key is set (UPSTAT_CHANNEL_KEY), or the channel changed meanwhile",
    }
}


@router.get("/v1/channels", summary="Every notification channel (secrets masked)")
def list_channels(client: RedisDep, settings: SettingsDep, _: Admin) -> ChannelList:
    found = ChannelStore(client, settings).list()
    return ChannelList(count=len(found), channels=[ChannelView.of(c) for c in found])


@router.post("/v1/channels", status_code=201, summary="Create a channel", responses=CONFLICT)
def create_channel(
    body: Annotated[ChannelIn, Body(examples=[CHANNEL_EXAMPLE])],
    client: RedisDep,
    settings: SettingsDep,
    _: Admin,
) -> ChannelView:
    return ChannelView.of(ChannelStore(client, settings).create(body))


@router.get("/v1/channels/{id}", summary="One channel (secrets masked)", responses=NOT_FOUND)
def get_channel(ref: ChannelId, client: RedisDep, settings: SettingsDep, _: Admin) -> ChannelView:
    return ChannelView.of(ChannelStore(client, settings).require(ref))


@router.patch(
    "/v1/channels/{id}",
    summary="Change some fields (config is merged; masked secrets sent back are kept)",
    responses={**NOT_FOUND, **CONFLICT},
)
def update_channel(
    ref: ChannelId,
    body: Annotated[ChannelUpdate, Body(examples=[{"default": False, "timezone": "UTC"}])],
    client: RedisDep,
    settings: SettingsDep,
    _: Admin,
) -> ChannelView:
    return ChannelView.of(ChannelStore(client, settings).update(ref, body))


@router.put(
    "/v1/channels/{id}",
    summary="Replace a channel (masked secrets sent back are kept)",
    responses={**NOT_FOUND, **CONFLICT},
)
def replace_channel(
    ref: ChannelId,
    body: Annotated[ChannelIn, Body(examples=[CHANNEL_EXAMPLE])],
    client: RedisDep,
    settings: SettingsDep,
    _: Admin,
) -> ChannelView:
    return ChannelView.of(ChannelStore(client, settings).replace(ref, body))


@router.delete(
    "/v1/channels/{id}",
    summary="Delete a channel that no service names",
    responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "Services still name it"}},
)
def delete_channel(ref: ChannelId, client: RedisDep, settings: SettingsDep, _: Admin) -> ChannelDeleted:
    from upstat.uptime.services import ServiceStore

    store = ChannelStore(client, settings)
    store.require(ref)
    users = [s.name for s in ServiceStore(client).list() if ref in s.channels]
    if users:
        raise Conflict(
            f"id: services {', '.join(repr(u) for u in users[:10])} name this channel: remove it from "
            "them first",
            field="id",
        )
    return ChannelDeleted(deleted=store.delete(ref).id)


@router.post(
    "/v1/channels/{id}/test",
    summary="Send a test message now and report the receiver's answer",
    responses=NOT_FOUND,
)
def test_channel(ref: ChannelId, client: RedisDep, settings: SettingsDep, _: Admin) -> TestResult:
    from upstat.notify.delivery import send_test

    channel = ChannelStore(client, settings).require(ref)
    return TestResult.model_validate(send_test(client, channel, settings=settings))


@router.get(
    "/v1/alerts",
    summary="Alerts sent, newest first, with each delivery's outcome",
    responses={404: {"model": ErrorBody, "description": "No service of this name"}},
)
def list_alerts(
    client: RedisDep,
    _: Reader,
    service: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Only this service's (by name; not with subject)"),
    ] = None,
    subject: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only this subject's, by id: a service's id, device:<id>, backup-<digest>",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many")] = 50,
) -> AlertList:
    from upstat.errors import InvalidInput
    from upstat.uptime.alerts import deliveries
    from upstat.uptime.services import ServiceStore

    if service is not None and subject is not None:
        raise InvalidInput("service: give service or subject, not both", field="service")
    if service is not None:
        subject = ServiceStore(client).require(service).id
    found = deliveries(client, subject_id=subject, limit=limit)
    return AlertList(count=len(found), alerts=found)
