"""Sending one message to one channel: the request of its kind, sent with retries, answered as an outcome.

Every HTTP request goes through the SSRF guard (the session's resolver refuses addresses the policy refuses,
and each URL is checked before it is tried), the user's URLs and the services' API base URLs alike: the
official hosts are public addresses, which the guard lets through. A request is tried up to
:data:`ATTEMPTS` times with exponential backoff (or the receiver's ``Retry-After``, when short) on a
connection error, a timeout, 408, 425, 429 or 5xx, within the run's deadline. Email goes through Amazon
SES and the ``sns`` kind through SNS (boto3, in a thread each). Nothing raises: a failure is an outcome,
and every text of an outcome has the channel's secrets replaced by ``********``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from upstat.config import Settings
from upstat.notify import messages as m
from upstat.notify.models import Channel
from upstat.uptime.models import MASK
from upstat.uptime.ssrf import AddressPolicy, TargetRefused, check_url

ATTEMPTS = 3
TIMEOUT_S = 5.0
BACKOFF_BASE_S = 0.25
#: A receiver's Retry-After is waited for when at most this long; a longer one ends the attempts.
MAX_RETRY_AFTER_S = 5.0
_RETRY_STATUS = frozenset({408, 425, 429})
#: Characters of a receiver's answer kept in an outcome (Telegram's "description", Slack's "invalid_payload").
ANSWER_KEPT = 300


@dataclass(frozen=True)
class Outgoing:
    """One request to send: an HTTP POST (``url``), or an AWS call (``aws``: "ses" or "sns")."""

    channel: Channel
    url: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    aws: str = ""
    call: dict[str, Any] = field(default_factory=dict)


def outgoing(
    channel: Channel, notice: m.Notice, settings: Settings, alert_payload: dict[str, Any]
) -> Outgoing:
    """The request that delivers ``notice`` to ``channel``."""
    c, tz = channel.config, channel.timezone
    json_headers = {"Content-Type": "application/json", "User-Agent": "upstat-alerts/1.0"}
    kind = channel.kind
    if kind in ("slack", "discord", "teams"):
        builder = {"slack": m.slack, "discord": m.discord, "teams": m.teams}[kind]
        return Outgoing(channel, c["webhookUrl"], m.body(builder(notice, tz)), json_headers)
    if kind == "telegram":
        url = f"{settings.telegram_api_url.rstrip('/')}/bot{c['botToken']}/sendMessage"
        return Outgoing(channel, url, m.body(m.telegram(notice, tz, c["chatId"])), json_headers)
    if kind == "ntfy":
        server = (c.get("serverUrl") or settings.ntfy_url).rstrip("/")
        headers, payload = m.ntfy(notice, tz, int(c.get("priority", 4)), c.get("token"))
        return Outgoing(
            channel, f"{server}/{c['topic']}", payload, {"User-Agent": "upstat-alerts/1.0", **headers}
        )
    if kind == "pagerduty":
        event = m.pagerduty(notice, tz, c["routingKey"], c.get("severity", "critical"))
        return Outgoing(channel, settings.pagerduty_events_url, m.body(event), json_headers)
    if kind == "opsgenie":
        path, data = m.opsgenie(notice, tz, c.get("priority", "P1"))
        headers = {**json_headers, "Authorization": f"GenieKey {c['apiKey']}"}
        return Outgoing(channel, settings.opsgenie_api_url.rstrip("/") + path, m.body(data), headers)
    if kind == "webhook":
        return Outgoing(channel, c["url"], m.body(alert_payload), json_headers)
    if kind == "email":
        subject, text = m.email(notice, tz)
        call = {
            "Source": c["from"],
            "Destination": {"ToAddresses": list(c["to"])},
            "Message": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        }
        return Outgoing(channel, aws="ses", call=call)
    subject, _ = m.email(notice, tz)
    call = {
        "TopicArn": c["topicArn"],
        "Subject": subject.encode("ascii", "replace").decode()[:100],
        "Message": json.dumps(alert_payload),
    }
    return Outgoing(channel, aws="sns", call=call)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and every URL holding one) replaced by ``********``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def _head(out: Outgoing) -> dict[str, Any]:
    return {"channel": out.channel.id, "name": out.channel.name, "kind": out.channel.kind}


async def send_all(
    items: list[Outgoing], *, policy: AddressPolicy, deadline: float, ssl_context: Any, secret: str | None
) -> list[dict[str, Any]]:
    """Send every request at once (HTTP on one guarded session, AWS calls in threads); outcomes in order."""
    from upstat.uptime.ssrf import GuardedResolver

    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit=100)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        jobs = [
            asyncio.to_thread(_aws, out)
            if out.aws
            else _post(session, out, policy, deadline, ssl_context, secret)
            for out in items
        ]
        return list(await asyncio.gather(*jobs))


def _aws(out: Outgoing) -> dict[str, Any]:
    from upstat.aws import client as aws_client

    try:
        if out.aws == "ses":
            reply = aws_client("ses").send_email(**out.call)
        else:
            reply = aws_client("sns").publish(**out.call)
        return {**_head(out), "ok": True, "attempts": 1, "messageId": reply.get("MessageId")}
    except Exception as exc:  # any AWS failure is an outcome, never a failed run
        error = scrub(f"{type(exc).__name__}: {exc}", out.channel.secrets)[:ANSWER_KEPT]
        return {**_head(out), "ok": False, "attempts": 1, "error": error}


async def _post(
    session: aiohttp.ClientSession,
    out: Outgoing,
    policy: AddressPolicy,
    deadline: float,
    ssl_context: Any,
    secret: str | None,
) -> dict[str, Any]:
    secrets = [*out.channel.secrets, out.url]
    try:
        check_url(out.url, policy)
    except TargetRefused as exc:
        return {**_head(out), "ok": False, "attempts": 0, "error": scrub(exc.message, secrets)}
    result: dict[str, Any] = {"ok": False, "attempts": 0, "error": "no attempt made before the deadline"}
    for attempt in range(1, ATTEMPTS + 1):
        left = deadline - time.monotonic()
        if left <= 0.1:
            break
        status, answer, retry_after = await _once(session, out, min(TIMEOUT_S, left), ssl_context, secret)
        ok = status is not None and 200 <= status < 300
        result = {"ok": ok, "attempts": attempt, "status": status}
        if answer:
            result["answer" if ok else "error"] = scrub(answer, secrets)[:ANSWER_KEPT]
        elif not ok:
            result["error"] = f"HTTP {status}"
        if ok or retry_after is None or attempt == ATTEMPTS:
            break
        pause = retry_after or BACKOFF_BASE_S * 2 ** (attempt - 1)
        if time.monotonic() + pause >= deadline:
            break
        await asyncio.sleep(pause)
    return {**_head(out), **result}


async def _once(
    session: aiohttp.ClientSession, out: Outgoing, timeout: float, ssl_context: Any, secret: str | None
) -> tuple[int | None, str, float | None]:
    """(status or None, the answer's text or the error, None when final, else the receiver's Retry-After in
    seconds, 0 for none: the backoff then)."""
    headers = dict(out.headers)
    if secret and out.channel.kind == "webhook":
        from upstat.uptime.alerts import sign

        stamp = str(int(time.time()))
        headers["X-Upstat-Timestamp"] = stamp
        headers["X-Upstat-Signature"] = sign(secret, stamp, out.body)
    try:
        async with session.post(
            out.url,
            data=out.body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
            ssl=ssl_context if ssl_context is not None else True,
        ) as resp:
            status = resp.status
            answer = (await resp.content.read(4096)).decode("utf-8", "replace").strip()
            retry_after = resp.headers.get("Retry-After", "")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}", 0.0
    if 200 <= status < 300 or not (status >= 500 or status in _RETRY_STATUS):
        return status, answer, None
    return status, answer or f"HTTP {status}", _wait(retry_after)


def _wait(retry_after: str) -> float | None:
    """The receiver's Retry-After in seconds (0: none given, back off), None when too long to wait for."""
    if retry_after.strip().isdigit():
        seconds = float(retry_after.strip())
        return seconds if seconds <= MAX_RETRY_AFTER_S else None
    return 0.0
