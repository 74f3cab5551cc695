"""Local stand-ins for the services channels send to, each checking the payload against its service's
documented schema and answering as the service does (status and body), on 127.0.0.1.

What each checks (the services' documentation, 2026):
- Slack incoming webhooks, Block Kit (api.slack.com/reference/block-kit/blocks): ``blocks`` at most 50;
  a header's text plain_text of at most 150; a section's ``fields`` at most 10 text objects of at most
  2,000; context elements at most 10; a button's text plain_text of at most 75 and url at most 3,000.
  Answers 200 ``ok``, or 400 ``invalid_blocks``.
- Discord webhooks (discord.com/developers/docs/resources/message#embed-object-embed-limits): at most 10
  embeds; title 256, description 4,096, at most 25 fields of name 256 and value 1,024, footer 2,048, all
  text of an embed 6,000; color an integer up to 0xFFFFFF; timestamp ISO 8601. Answers 204, or 400 JSON.
- Teams Workflows webhooks (learn.microsoft.com, "Create incoming webhooks with Workflows"): a body of
  ``type: message`` with ``attachments`` of ``contentType: application/vnd.microsoft.card.adaptive`` whose
  ``content`` is an AdaptiveCard (``type``, ``version``, ``body``). Answers 202.
- Telegram Bot API sendMessage (core.telegram.org/bots/api#sendmessage): ``chat_id`` and ``text`` of 1 to
  4,096 characters required, ``parse_mode`` one of HTML, MarkdownV2, Markdown. Answers ``{"ok": true,
  "result": ...}``, 401 for an unknown token, 400 "chat not found" for an unknown chat.
- ntfy publish (docs.ntfy.sh/publish): the body is the message; ``Title``, ``Priority`` (1-5 or
  min/low/default/high/max/urgent), ``Tags`` (comma-separated), ``Click`` (a URL) headers; a token as
  ``Authorization: Bearer``. Answers the message JSON (``id``, ``event: message`` ...).
- PagerDuty Events API v2 (developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty):
  ``routing_key`` 32 characters, ``event_action`` trigger, acknowledge or resolve, ``dedup_key`` at most
  255 (required for resolve); a trigger's ``payload`` needs ``summary`` (at most 1,024), ``source`` and
  ``severity`` (critical, error, warning, info), ``timestamp`` ISO 8601. Answers 202 ``{"status":
  "success", "message": "Event processed", "dedup_key": ...}``, or 400 ``invalid event``.
- Opsgenie Alert API (docs.opsgenie.com/docs/alert-api): ``Authorization: GenieKey <key>``; create (POST
  /v2/alerts) needs ``message`` (at most 130), ``alias`` at most 512, ``description`` at most 15,000,
  ``priority`` P1-P5, at most 20 tags; close (POST /v2/alerts/<alias>/close?identifierType=alias) takes
  ``source``, ``user``, ``note`` (at most 25,000). Answers 202 ``{"result": "Request will be processed",
  ...}``, or 422/401.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web

from tests.uptime.targets import HOST, ServerThread
from upstat.config import get_settings

BOT_TOKEN = "123456789:AAHfakefakefakefakefakefakefake12345"
CHAT = "-1001234567890"
ROUTING_KEY = "R0123456789abcdefghijklmnopqrstu"
GENIE_KEY = "genie-key-0123456789"
NTFY_TOKEN = "tk_ntfytoken0123456789"


@dataclass
class Seen:
    service: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Services:
    """The running receivers: ``base`` URL, every request ``seen``, ``problems`` found (schema breaks),
    and ``statuses``: answers queued per service (then the normal answer)."""

    base: str
    seen: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)

    def of(self, service: str) -> list[Seen]:
        return [s for s in self.seen if s.service == service]


def _iso(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def slack_problems(body: dict[str, Any]) -> list[str]:
    out = []
    blocks = body.get("blocks", [])
    if not isinstance(body.get("text", ""), str) or len(blocks) > 50:
        out.append("slack: text must be a string, blocks at most 50")
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            text = block["text"]
            if text.get("type") != "plain_text" or not 1 <= len(text.get("text", "")) <= 150:
                out.append("slack: a header's text is plain_text of 1 to 150")
        elif kind == "section":
            fields = block.get("fields", [])
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                out.append("slack: at most 10 section fields of at most 2000")
            if any(f.get("type") not in ("mrkdwn", "plain_text") for f in fields):
                out.append("slack: a field is a text object")
        elif kind == "context":
            if not 1 <= len(block.get("elements", [])) <= 10:
                out.append("slack: context has 1 to 10 elements")
        elif kind == "actions":
            for button in block.get("elements", []):
                if button.get("type") != "button" or button["text"].get("type") != "plain_text":
                    out.append("slack: an action is a button with plain_text")
                if len(button["text"].get("text", "")) > 75 or len(button.get("url", "")) > 3000:
                    out.append("slack: a button's text at most 75, url at most 3000")
        else:
            out.append(f"slack: unexpected block type {kind!r}")
    return out


def discord_problems(body: dict[str, Any]) -> list[str]:
    out = []
    embeds = body.get("embeds", [])
    if len(embeds) > 10 or len(body.get("content", "")) > 2000:
        out.append("discord: at most 10 embeds, content at most 2000")
    for e in embeds:
        total = (
            len(e.get("title", "")) + len(e.get("description", "")) + len(e.get("footer", {}).get("text", ""))
        )
        if len(e.get("title", "")) > 256 or len(e.get("description", "")) > 4096:
            out.append("discord: title at most 256, description at most 4096")
        fields = e.get("fields", [])
        if len(fields) > 25:
            out.append("discord: at most 25 fields")
        for f in fields:
            if not f.get("name") or not f.get("value") or len(f["name"]) > 256 or len(f["value"]) > 1024:
                out.append("discord: a field's name (1-256) and value (1-1024)")
            total += len(f.get("name", "")) + len(f.get("value", ""))
        if total > 6000:
            out.append("discord: an embed's text at most 6000")
        colour = e.get("color", 0)
        if not isinstance(colour, int) or not 0 <= colour <= 0xFFFFFF:
            out.append("discord: color an integer up to 0xFFFFFF")
        if "timestamp" in e and not _iso(e["timestamp"]):
            out.append("discord: timestamp ISO 8601")
    return out


def teams_problems(body: dict[str, Any]) -> list[str]:
    if body.get("type") != "message" or not body.get("attachments"):
        return ["teams: type message with attachments"]
    out = []
    for a in body["attachments"]:
        card = a.get("content", {})
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            out.append("teams: contentType application/vnd.microsoft.card.adaptive")
        if (
            card.get("type") != "AdaptiveCard"
            or not card.get("version")
            or not isinstance(card.get("body"), list)
        ):
            out.append("teams: content is an AdaptiveCard with version and body")
        for element in card.get("body", []):
            if element.get("type") not in ("TextBlock", "FactSet", "ColumnSet", "Container"):
                out.append(f"teams: unexpected element {element.get('type')!r}")
            if element.get("type") == "FactSet" and any(
                not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str)
                for f in element["facts"]
            ):
                out.append("teams: facts of title and value text")
    return out


def telegram_problems(body: dict[str, Any]) -> list[str]:
    out = []
    if "chat_id" not in body or not 1 <= len(body.get("text", "")) <= 4096:
        out.append("telegram: chat_id and text of 1-4096 required")
    if body.get("parse_mode", "HTML") not in ("HTML", "MarkdownV2", "Markdown"):
        out.append("telegram: parse_mode")
    if body.get("parse_mode") == "HTML" and re.search(r"<(?!/?(b|i|u|s|a|code|pre)\b)", body.get("text", "")):
        out.append("telegram: HTML text uses a tag sendMessage does not support (unescaped <)")
    return out


NTFY_PRIORITIES = {"1", "2", "3", "4", "5", "min", "low", "default", "high", "max", "urgent"}


def ntfy_problems(headers: dict[str, str], body: bytes) -> list[str]:
    out = []
    if headers.get("Priority", "3") not in NTFY_PRIORITIES:
        out.append("ntfy: Priority 1-5")
    if "Click" in headers and not re.match(r"https?://", headers["Click"]):
        out.append("ntfy: Click is a URL")
    if not body:
        out.append("ntfy: a message body")
    if "Tags" in headers and not re.fullmatch(r"[\w,+-]+", headers["Tags"]):
        out.append("ntfy: Tags comma-separated")
    return out


def pagerduty_problems(body: dict[str, Any]) -> list[str]:
    out = []
    if not re.fullmatch(r"[A-Za-z0-9]{32}", str(body.get("routing_key", ""))):
        out.append("pagerduty: routing_key of 32")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        out.append("pagerduty: event_action")
    if len(body.get("dedup_key", "")) > 255 or (action != "trigger" and not body.get("dedup_key")):
        out.append("pagerduty: dedup_key at most 255, required but for trigger")
    if action == "trigger":
        p = body.get("payload", {})
        if not p.get("summary") or len(p["summary"]) > 1024 or not p.get("source"):
            out.append("pagerduty: payload.summary (1-1024) and source required")
        if p.get("severity") not in ("critical", "error", "warning", "info"):
            out.append("pagerduty: payload.severity")
        if "timestamp" in p and not _iso(p["timestamp"]):
            out.append("pagerduty: payload.timestamp ISO 8601")
    return out


def opsgenie_problems(path: str, body: dict[str, Any]) -> list[str]:
    out = []
    if path.endswith("/close"):
        if len(body.get("note", "")) > 25000:
            out.append("opsgenie: note at most 25000")
        return out
    if not body.get("message") or len(body["message"]) > 130:
        out.append("opsgenie: message of 1-130")
    if len(body.get("alias", "")) > 512 or len(body.get("description", "")) > 15000:
        out.append("opsgenie: alias at most 512, description at most 15000")
    if body.get("priority", "P3") not in ("P1", "P2", "P3", "P4", "P5"):
        out.append("opsgenie: priority P1-P5")
    if len(body.get("tags", [])) > 20:
        out.append("opsgenie: at most 20 tags")
    if not all(isinstance(v, str) for v in body.get("details", {}).values()):
        out.append("opsgenie: details map text to text")
    return out


def make_app(services: Services) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        service = request.match_info["service"]
        path = request.path
        services.seen.append(Seen(service, request.path_qs, dict(request.headers), body))
        queued = services.statuses.get(service) or []
        if queued:
            status = queued.pop(0)
            return web.Response(status=status, text=f"queued {status}")
        return answer(services, service, path, dict(request.headers), body)

    app = web.Application()
    app.router.add_post("/{service}/{rest:.*}", handle)
    return app


def answer(services: Services, service: str, path: str, headers: dict[str, str], body: bytes) -> web.Response:
    if service == "ntfy":
        found = ntfy_problems(headers, body)
        auth = headers.get("Authorization")
        if auth is not None and auth != f"Bearer {NTFY_TOKEN}":
            return web.json_response({"code": 40101, "http": 401, "error": "unauthorized"}, status=401)
        services.problems += found
        return web.json_response(
            {"id": uuid.uuid4().hex[:12], "event": "message", "topic": path.split("/")[-1]}
        )
    data = json.loads(body)
    if service == "slack":
        found = slack_problems(data)
        services.problems += found
        return web.Response(status=400 if found else 200, text="invalid_blocks" if found else "ok")
    if service == "discord":
        found = discord_problems(data)
        services.problems += found
        return web.json_response({"code": 50035}, status=400) if found else web.Response(status=204)
    if service == "teams":
        found = teams_problems(data)
        services.problems += found
        return web.Response(status=400 if found else 202)
    if service == "telegram":
        return telegram_answer(services, path, data)
    if service == "pagerduty":
        found = pagerduty_problems(data)
        services.problems += found
        if found:
            return web.json_response({"status": "invalid event", "errors": found}, status=400)
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": data.get("dedup_key")},
            status=202,
        )
    if service == "opsgenie":
        if headers.get("Authorization") != f"GenieKey {GENIE_KEY}":
            return web.json_response({"message": "Key format is not valid!"}, status=401)
        found = opsgenie_problems(path, data)
        services.problems += found
        if found:
            return web.json_response(
                {"message": "Request body is not processable", "errors": found}, status=422
            )
        return web.json_response(
            {"result": "Request will be processed", "took": 0.01, "requestId": "r1"}, status=202
        )
    return web.Response(status=200)


def telegram_answer(services: Services, path: str, data: dict[str, Any]) -> web.Response:
    if not path.startswith(f"/telegram/bot{BOT_TOKEN}/sendMessage"):
        return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
    found = telegram_problems(data)
    services.problems += found
    if found:
        return web.json_response(
            {"ok": False, "error_code": 400, "description": "; ".join(found)}, status=400
        )
    if str(data.get("chat_id")) != CHAT:
        return web.json_response(
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, status=400
        )
    return web.json_response(
        {"ok": True, "result": {"message_id": 1, "chat": {"id": int(CHAT)}, "text": data["text"]}}
    )


@pytest.fixture
def services(target_thread: ServerThread) -> Iterator[Services]:
    """The local services on a fresh port (each test its own)."""
    holder = Services(base="")
    port = target_thread.serve(make_app(holder))
    holder.base = f"http://{HOST}:{port}"
    yield holder


@pytest.fixture
def pointed(env: dict[str, str], services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The services' API base URLs (Telegram, PagerDuty, Opsgenie, ntfy) set to the local stand-ins."""
    monkeypatch.setenv("UPSTAT_TELEGRAM_API_URL", f"{services.base}/telegram")
    monkeypatch.setenv("UPSTAT_PAGERDUTY_EVENTS_URL", f"{services.base}/pagerduty/v2/enqueue")
    monkeypatch.setenv("UPSTAT_OPSGENIE_API_URL", f"{services.base}/opsgenie")
    monkeypatch.setenv("UPSTAT_NTFY_URL", f"{services.base}/ntfy")
    monkeypatch.setenv("UPSTAT_PUBLIC_BASE_URL", "https://status.example.com")
    get_settings.cache_clear()
    yield services
    get_settings.cache_clear()
