"""Channels: what a client sends (``ChannelIn``, ``ChannelUpdate``) and what is stored (``Channel``).

Every channel has a ``name``, a ``kind``, a ``timezone`` (IANA; its messages give times in it), ``default``
(the default set gets the alerts of every subject that names no channels) and the kind's ``config``,
validated by the kind's model below: bad input is :class:`InvalidInput` naming the field
(``config.webhookUrl``). Secrets (webhook URLs, bot tokens, routing keys, API keys, ntfy tokens) are
listed in :data:`SECRETS`; responses show them masked (a URL keeps its scheme and host:
``https://hooks.slack.com/********``, a token is ``********``), and a masked value sent back unchanged
keeps the stored one, as services' webhooks do.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from upstat.errors import InvalidInput
from upstat.uptime.models import MASK, WEBHOOK_PATTERN, check_url, mask_webhook, validated
from upstat.wire import StrictBool, StrictStr, name_type, pattern

ChannelKind = Literal[
    "slack", "discord", "teams", "telegram", "email", "ntfy", "pagerduty", "opsgenie", "webhook", "sns"
]
KINDS: tuple[str, ...] = ChannelKind.__args__  # type: ignore[attr-defined]

_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel, allow_inf_nan=False)

Url = Annotated[StrictStr, Field(min_length=1, max_length=2048), pattern(WEBHOOK_PATTERN)]
Token = Annotated[StrictStr, Field(min_length=1, max_length=512), pattern(r"^[\x21-\x7e]+$")]
_EMAIL = r"^[^\s@<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"
Email = Annotated[StrictStr, Field(max_length=320), pattern(_EMAIL)]


def _url(value: str, what: str) -> str:
    try:
        return check_url(value, "http", what=what)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _token(value: str, what: str) -> str:
    if not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ValueError(f"{what} must be printable characters without spaces")
    return value


class WebhookUrlConfig(BaseModel):
    """Slack (incoming webhook), Discord (channel webhook), Teams (Workflows "When a Teams webhook request
    is received"): the webhook URL, which is the credential."""

    model_config = _CONFIG
    webhook_url: Url

    @field_validator("webhook_url")
    @classmethod
    def _check(cls, value: str) -> str:
        return _url(value, "webhookUrl")


class TelegramConfig(BaseModel):
    """A bot's token (from @BotFather) and the chat it writes to (a chat id, or @channelname)."""

    model_config = _CONFIG
    bot_token: Annotated[StrictStr, Field(max_length=100), pattern(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,80}$")]
    chat_id: Annotated[
        StrictStr, Field(max_length=64), pattern(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")
    ]

    @field_validator("bot_token")
    @classmethod
    def _bot(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,80}", value):
            raise ValueError("botToken must look like 123456789:AAH... (the token @BotFather gives)")
        return value

    @field_validator("chat_id")
    @classmethod
    def _chat(cls, value: str) -> str:
        if not re.fullmatch(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}", value):
            raise ValueError("chatId must be a chat id (-1001234567890) or a @channelname")
        return value


class EmailConfig(BaseModel):
    """Amazon SES: the sender (an identity verified in SES) and up to 20 recipients."""

    model_config = _CONFIG
    to: list[Email] = Field(min_length=1, max_length=20)
    sender: Email = Field(alias="from")

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(_EMAIL, address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("sender")
    @classmethod
    def _from(cls, value: str) -> str:
        if not re.fullmatch(_EMAIL, value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class NtfyConfig(BaseModel):
    """An ntfy topic on a server (``serverUrl``; empty: ``UPSTAT_NTFY_URL``, https://ntfy.sh), with an
    access token for a protected topic."""

    model_config = _CONFIG
    server_url: Annotated[StrictStr, Field(max_length=2048), pattern(rf"^$|{WEBHOOK_PATTERN}")] = ""
    topic: Annotated[StrictStr, Field(min_length=1, max_length=64), pattern(r"^[-_A-Za-z0-9]+$")]
    token: Token | None = None
    priority: Annotated[int, Field(ge=1, le=5)] = 4

    @field_validator("server_url")
    @classmethod
    def _server(cls, value: str) -> str:
        return _url(value, "serverUrl") if value else value

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not re.fullmatch(r"[-_A-Za-z0-9]{1,64}", value):
            raise ValueError("topic must be 1 to 64 letters, digits, '-' or '_'")
        return value

    @field_validator("token")
    @classmethod
    def _tok(cls, value: str | None) -> str | None:
        return None if value is None else _token(value, "token")


class PagerDutyConfig(BaseModel):
    """A PagerDuty Events API v2 integration's routing key (32 characters) and the severity of its events."""

    model_config = _CONFIG
    routing_key: Annotated[StrictStr, Field(max_length=32), pattern(r"^[A-Za-z0-9]{32}$")]
    severity: Literal["critical", "error", "warning", "info"] = "critical"

    @field_validator("routing_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{32}", value):
            raise ValueError("routingKey must be the integration's 32-character routing key")
        return value


class OpsgenieConfig(BaseModel):
    """An Opsgenie API integration's key, and the priority of the alerts it creates."""

    model_config = _CONFIG
    api_key: Token
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P1"

    @field_validator("api_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _token(value, "apiKey")


class WebhookConfig(BaseModel):
    """upstat's signed webhook (README "Alerts"): the alert's JSON POSTed to ``url``."""

    model_config = _CONFIG
    url: Url

    @field_validator("url")
    @classmethod
    def _check(cls, value: str) -> str:
        return _url(value, "url")


_ARN = r"^arn:aws[-a-z]*:sns:[a-z0-9-]{1,30}:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"


class SnsConfig(BaseModel):
    """An SNS topic the function may publish to (its role needs sns:Publish on it)."""

    model_config = _CONFIG
    topic_arn: Annotated[StrictStr, Field(max_length=400), pattern(_ARN)]

    @field_validator("topic_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        if not re.fullmatch(_ARN, value):
            raise ValueError("topicArn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
        return value


CONFIGS: dict[str, type[BaseModel]] = {
    "slack": WebhookUrlConfig,
    "discord": WebhookUrlConfig,
    "teams": WebhookUrlConfig,
    "telegram": TelegramConfig,
    "email": EmailConfig,
    "ntfy": NtfyConfig,
    "pagerduty": PagerDutyConfig,
    "opsgenie": OpsgenieConfig,
    "webhook": WebhookConfig,
    "sns": SnsConfig,
}
#: The config fields (wire names) of each kind that are credentials: sealed in the store, masked outside.
SECRETS: dict[str, tuple[str, ...]] = {
    "slack": ("webhookUrl",),
    "discord": ("webhookUrl",),
    "teams": ("webhookUrl",),
    "telegram": ("botToken",),
    "email": (),
    "ntfy": ("token",),
    "pagerduty": ("routingKey",),
    "opsgenie": ("apiKey",),
    "webhook": ("url",),
    "sns": (),
}
#: The config fields that are URLs the user gives: they go through the SSRF guard when written and sent.
USER_URLS: dict[str, tuple[str, ...]] = {
    "slack": ("webhookUrl",),
    "discord": ("webhookUrl",),
    "teams": ("webhookUrl",),
    "ntfy": ("serverUrl",),
    "webhook": ("url",),
}

CONFIG_DESCRIPTION = (
    'The kind\'s settings (README "Notification channels"): slack, discord, teams: webhookUrl; telegram: '
    "botToken, chatId; email: to (a list), from; ntfy: topic, serverUrl, token, priority; pagerduty: "
    "routingKey, severity; opsgenie: apiKey, priority; webhook: url; sns: topicArn. Secrets are answered "
    "masked; a masked value sent back keeps the stored one."
)


def config_of(kind: str, data: Any) -> dict[str, Any]:
    """``data`` validated as ``kind``'s config, by wire name (defaults filled, None left out)."""
    if not isinstance(data, dict):
        raise InvalidInput("config: must be an object of the kind's settings", field="config")
    model = validated_config(kind, data)
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def validated_config(kind: str, data: dict[str, Any]) -> BaseModel:
    try:
        return validated(CONFIGS[kind], data)
    except InvalidInput as exc:
        field = f"config.{exc.field}" if exc.field and exc.field != "body" else "config"
        raise InvalidInput(f"config.{exc.message}" if exc.field else exc.message, field=field) from None


def mask_value(value: Any) -> Any:
    """A secret as responses show it: a URL's scheme and host, else ``********``."""
    if isinstance(value, str) and re.match(r"(?i)https?://", value):
        return mask_webhook(value)
    return MASK


def masked_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_value(v) if k in SECRETS[kind] else v for k, v in config.items()}


def unmask_config(kind: str, sent: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """``sent`` with each secret sent masked, as responses show it, replaced by the stored value it stands
    for; a masked value that stands for nothing stored is refused naming the field."""
    out = dict(sent)
    for name in SECRETS[kind]:
        value = sent.get(name)
        if not isinstance(value, str) or MASK not in value:
            continue
        kept = stored.get(name)
        if kept is None or mask_value(kept) != value:
            raise InvalidInput(
                f"config.{name}: '{value}' stands for a stored secret, and none matches; send the value",
                field=f"config.{name}",
            )
        out[name] = kept
    return out


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {value!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)") from None
    return value


Zone = Annotated[StrictStr, Field(min_length=1, max_length=64), pattern(r"^[A-Za-z0-9_+\-/]+$")]
ChannelName = name_type(100)


class ChannelIn(BaseModel):
    """A channel as a client sends it (POST, PUT)."""

    model_config = _CONFIG

    name: ChannelName  # type: ignore[valid-type]
    kind: ChannelKind
    default: StrictBool = Field(
        False, description="In the default set: gets the alerts of every subject that names no channels"
    )
    timezone: Zone = Field("UTC", description="The IANA time zone of the times in its messages")
    config: dict[str, Any] = Field(description=CONFIG_DESCRIPTION)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)

    @model_validator(mode="after")
    def _config(self) -> ChannelIn:
        self.config = config_of(self.kind, self.config)
        return self


class ChannelUpdate(BaseModel):
    """A partial change (PATCH): the fields present change; ``config`` is merged into the stored one
    (a changed ``kind`` takes the whole new config)."""

    model_config = _CONFIG

    name: ChannelName | None = None  # type: ignore[valid-type]
    kind: ChannelKind | None = None
    default: StrictBool | None = None
    timezone: Zone | None = None
    config: dict[str, Any] | None = Field(None, description=CONFIG_DESCRIPTION)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)

    def apply(self, current: Channel) -> dict[str, Any]:
        """The fields of ``current`` with these changes, masked secrets kept (validate it with ChannelIn)."""
        sent = self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
        kind = sent.get("kind", current.kind)
        config = sent.get("config")
        if config is None:
            if kind != current.kind:
                raise InvalidInput("config: a new kind needs its whole config", field="config")
            config = current.config
        else:
            stored = current.config if kind == current.kind else {}
            config = unmask_config(kind, config, stored)
            if kind == current.kind:
                config = {**current.config, **config}
        return {**current.fields(), **sent, "kind": kind, "config": config}


class Channel(BaseModel):
    """A stored channel (its config holds the secrets in the clear: never answer it as is, see public())."""

    model_config = ConfigDict(**_CONFIG, frozen=True)

    id: StrictStr
    name: StrictStr
    kind: ChannelKind
    default: StrictBool
    timezone: StrictStr
    config: dict[str, Any]
    created_at: int
    updated_at: int

    def fields(self) -> dict[str, Any]:
        """What a client sends, by wire name (unmasked)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "timezone": self.timezone,
            "config": dict(self.config),
        }

    def public(self) -> dict[str, Any]:
        """Every field by wire name, the secrets masked."""
        data = self.model_dump(by_alias=True, mode="json")
        data["config"] = masked_config(self.kind, self.config)
        return data

    @property
    def secrets(self) -> list[str]:
        """The secret values of this channel (to scrub from any text that leaves: errors, logs)."""
        return [str(self.config[k]) for k in SECRETS[self.kind] if self.config.get(k)]


def channel_in(data: Any) -> ChannelIn:
    """``data`` validated as a new channel (InvalidInput naming the field)."""
    return validated(ChannelIn, data)
