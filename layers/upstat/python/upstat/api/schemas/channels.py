"""Request and response shapes of ``/v1/channels`` and ``/v1/alerts`` (upstat.api.routes.channels); the
channel rules themselves are upstat.notify.models'."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upstat.notify.models import CONFIG_DESCRIPTION, Channel, ChannelKind

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

CHANNEL_EXAMPLE: dict[str, Any] = {
    "name": "ops slack",
    "kind": "slack",
    "default": True,
    "timezone": "Europe/Berlin",
    "config": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"},
}
CHANNEL_VIEW_EXAMPLE: dict[str, Any] = {
    **CHANNEL_EXAMPLE,
    "id": "4f2a9c0d1e7b",
    "config": {"webhookUrl": "https://hooks.slack.com/********"},
    "createdAt": T0,
    "updatedAt": T0,
}


ALERT_EXAMPLE: dict[str, Any] = {
    "alert": {
        "event": "service.down",
        "service": {"id": "9f1c2b3a4d5e6f70", "name": "api", "url": "https://api.example.com/health"},
        "transition": "down",
        "previous": "up",
        "current": "down",
        "at": T0,
        "seq": 4,
        "errorKind": "status",
        "error": "status 500, expected 200",
        "certDays": None,
    },
    "sns": {"ok": True, "messageId": "5c6b1f0e-0000-4000-8000-000000000000"},
    "webhooks": [{"url": "https://hooks.example.com/********", "ok": True, "attempts": 1, "status": 200}],
    "channels": [
        {
            "channel": "4f2a9c0d1e7b",
            "name": "ops slack",
            "kind": "slack",
            "ok": True,
            "attempts": 2,
            "status": 200,
            "answer": "ok",
        }
    ],
}


class ChannelView(BaseModel):
    """A channel with every field, its secrets masked (``********``; a URL keeps its scheme and host)."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [CHANNEL_VIEW_EXAMPLE]})

    id: str
    name: str
    kind: ChannelKind
    default: bool
    timezone: str
    config: dict[str, Any] = Field(description=CONFIG_DESCRIPTION)
    createdAt: int
    updatedAt: int

    @classmethod
    def of(cls, channel: Channel) -> ChannelView:
        return cls.model_validate(channel.public())


class ChannelList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"count": 1, "channels": [CHANNEL_VIEW_EXAMPLE]}]}
    )
    count: int
    channels: list[ChannelView]


class ChannelDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"deleted": "4f2a9c0d1e7b"}]})
    deleted: str


class TestResult(BaseModel):
    """What the receiver answered a test message: ``ok``, its HTTP ``status``, the ``attempts`` made, and
    its answer (``answer`` when accepted, ``error`` otherwise; secrets masked)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "channel": "4f2a9c0d1e7b",
                    "name": "ops slack",
                    "kind": "slack",
                    "ok": True,
                    "attempts": 1,
                    "status": 200,
                    "answer": "ok",
                },
                {
                    "channel": "4f2a9c0d1e7b",
                    "name": "tg",
                    "kind": "telegram",
                    "ok": False,
                    "attempts": 1,
                    "status": 400,
                    "error": '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
                },
            ]
        },
    )

    channel: str
    name: str
    kind: str
    ok: bool
    attempts: int
    status: int | None = None
    answer: str | None = None
    error: str | None = None
    messageId: str | None = None


class AlertList(BaseModel):
    """Alerts, newest first, each with its outcomes: ``sns``, ``webhooks`` (URLs masked), ``channels``
    (one per channel: ok, attempts, status, error), and ``held`` for a change held back while flapping."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 1, "alerts": [ALERT_EXAMPLE]}]})
    count: int
    alerts: list[dict[str, Any]]
