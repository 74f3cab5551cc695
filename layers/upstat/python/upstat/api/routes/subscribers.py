"""Status-page webhook subscribers (``/v1/subscribers``, admin keys only): URLs that get the page's
incident and maintenance events as signed POSTs (see ``upstat.uptime.subscribers``).

A subscriber's URL carries the receiver's token in its path or query (Slack, Discord ... style), so every
answer shows it as ``https://host/********`` unless ``?reveal=true``; sent back unchanged in a PATCH, the
hidden form keeps the stored URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.deps import Admin, RedisDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.uptime import Deleted
from upstat.clock import now_ms
from upstat.uptime import subscribers
from upstat.uptime.events import EVENT_KINDS
from upstat.uptime.subscribers import SubscriberIn, SubscriberUpdate

router = APIRouter(
    prefix="/v1/subscribers",
    tags=["subscribers"],
    responses={404: {"model": ErrorBody, "description": "No such subscriber"}},
)

EXAMPLE: dict[str, Any] = {
    "id": "3f9a1c2b7d4e",
    "url": "https://hooks.example.com/********",
    "events": list(EVENT_KINDS),
    "description": "our chat room",
    "createdAt": 1767225600000,
}
REVEAL = Query(description="show the URL's path and query (the receiver's token) instead of `********`")


class SubscriberOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})
    id: str
    url: str = Field(description="path and query hidden as ******** unless ?reveal=true")
    events: list[str]
    description: str
    createdAt: int


class Delivery(BaseModel):
    event: str
    id: str = Field(description="the event's key")
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


class SubscriberDetail(SubscriberOut):
    deliveries: list[Delivery] = Field(description="the latest deliveries' outcomes, newest first")


class SubscriberList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"subscribers": [EXAMPLE]}]})
    subscribers: list[SubscriberOut]


def _out(sub: subscribers.Subscriber, reveal: bool = False) -> SubscriberOut:
    return SubscriberOut.model_validate(sub.public(reveal=reveal))


@router.get("", summary="Every subscriber (URLs hidden unless ?reveal=true)")
def list_subscribers(client: RedisDep, _: Admin, reveal: Annotated[bool, REVEAL] = False) -> SubscriberList:
    return SubscriberList(subscribers=[_out(s, reveal) for s in subscribers.list_all(client)])


@router.post("", status_code=201, summary="Add a subscriber (events: all unless listed)")
def create_subscriber(
    body: Annotated[SubscriberIn, Body(examples=[{"url": "https://hooks.example.com/T0/B0/xyz"}])],
    client: RedisDep,
    _: Admin,
) -> SubscriberOut:
    return _out(subscribers.create(client, body, now_ms=now_ms()))


@router.get("/{subscriber_id}", summary="One subscriber with its latest deliveries")
def get_subscriber(
    subscriber_id: str, client: RedisDep, _: Admin, reveal: Annotated[bool, REVEAL] = False
) -> SubscriberDetail:
    sub = subscribers.require(client, subscriber_id)
    found = [Delivery.model_validate(d) for d in subscribers.deliveries(client, sub.id)]
    return SubscriberDetail(**_out(sub, reveal).model_dump(), deliveries=found)


@router.patch("/{subscriber_id}", summary="Change a subscriber's URL, events or description")
def update_subscriber(
    subscriber_id: str,
    body: Annotated[SubscriberUpdate, Body(examples=[{"events": ["incident.opened", "incident.resolved"]}])],
    client: RedisDep,
    _: Admin,
) -> SubscriberOut:
    return _out(subscribers.update(client, subscriber_id, body))


@router.delete("/{subscriber_id}", summary="Remove a subscriber")
def delete_subscriber(subscriber_id: str, client: RedisDep, _: Admin) -> Deleted:
    if not subscribers.delete(client, subscriber_id):
        subscribers.require(client, subscriber_id)  # 404 naming the field
    return Deleted(deleted=subscriber_id)
