"""Alerts: one per recorded transition, published to SNS, POSTed to webhooks and sent to notification
channels (upstat.notify), after the state change is stored (the recorder runs first) and never twice for
the same transition.

Each transition (service id, seq) is claimed with ``SET NX`` before anything is sent, so overlapping ping
runs (or a retried one) send it once; then flap control decides (upstat.notify.flap: send it, send one
"flapping" message in its place, or hold it), and each alert sent goes to the channels it names, else the
default set, once each. Delivery outcomes are stored on the claim key, in the subject's alert list and in
the list of every subject's (``GET /v1/alerts``); they are never raised: a failing transport must not fail
the ping run.

Webhooks get ``POST`` with a JSON body and, when ``UPSTAT_WEBHOOK_SECRET`` is set (or the SSM parameter
named by ``UPSTAT_WEBHOOK_SECRET_SSM_PARAMETER`` exists, as in the deployed stack), the headers
``X-Upstat-Timestamp`` (unix seconds) and ``X-Upstat-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>.<body>"`` with the secret (receivers should refuse a timestamp more than 5 minutes off).
A webhook is tried up to :data:`WEBHOOK_ATTEMPTS` times with exponential backoff on a connection error,
a timeout, 408, 429 or 5xx, within the run's deadline. Webhook URLs go through the SSRF guard like checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from upstat.config import Settings, get_settings
from upstat.store.keyspace import keyspace
from upstat.uptime.keyspace import UptimeKeys
from upstat.uptime.recorder import Recorded
from upstat.uptime.ssrf import AddressPolicy, GuardedResolver, TargetRefused, check_url

log = logging.getLogger("upstat.uptime.alerts")

WEBHOOK_ATTEMPTS = 3
WEBHOOK_TIMEOUT_S = 5.0
BACKOFF_BASE_S = 0.25
#: Claims (and their stored outcomes) are kept this long: far beyond any overlap between runs.
CLAIM_TTL_S = 30 * 86400
#: Outcomes kept per service.
OUTCOMES_KEPT = 100
#: Outcomes kept in the list of every subject's (``GET /v1/alerts``).
DELIVERIES_KEPT = 1000
_RETRY_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Alert:
    """One state change of one service, as sent."""

    service_id: str
    service_name: str
    url: str
    transition: str  # down | up | degraded | cert_expiring | overdue (a backup job) | firing | resolved
    previous: str | None
    current: str
    at_ms: int
    seq: int
    error_kind: str | None = None
    error: str | None = None
    cert_days: float | None = None
    webhooks: tuple[str, ...] = field(default=(), compare=False)
    # What changed: a monitored ``service``, a ``backup`` job (upstat.backups.schedule: overdue runs), a
    # ``device`` whose health changed (upstat.devices: its payload also names the device under "device"),
    # or a ``rule``'s series firing or resolved (upstat.rules).
    kind: str = "service"
    # The notification channels (upstat.notify) this alert goes to, by id; () = the channels marked default.
    channels: tuple[str, ...] = field(default=(), compare=False)

    @property
    def claim_id(self) -> str:
        return f"{self.seq}"

    @property
    def subject_id(self) -> str:
        """A device's own id (its ``service_id`` is ``device:<id>``, so devices' claims and outcomes never
        share keys with services'); any other subject's ``service_id``."""
        prefix = f"{self.kind}:"
        if self.kind == "device" and self.service_id.startswith(prefix):
            return self.service_id[len(prefix) :]
        return self.service_id

    def payload(self) -> dict[str, Any]:
        """The JSON body of webhooks and the SNS message."""
        body: dict[str, Any] = {
            "event": f"{self.kind}.{self.transition}",
            "service": {"id": self.service_id, "name": self.service_name, "url": self.url},
            "transition": self.transition,
            "previous": self.previous,
            "current": self.current,
            "at": self.at_ms,
            "seq": self.seq,
            "errorKind": self.error_kind,
            "error": self.error,
            "certDays": self.cert_days,
        }
        if self.kind == "device":  # a device's health: named as the device too, by its own id
            body["device"] = {"id": self.subject_id, "name": self.service_name}
        if self.kind == "rule":  # a rule on one series: its service id is rule:<rule id>:<source>
            _, rule_id, source = self.service_id.split(":", 2)
            body["rule"] = {"id": rule_id, "source": source}
        return body

    def subject(self) -> str:
        words = {
            "down": "is DOWN",
            "problem": "has a PROBLEM",
            "critical": "is CRITICAL",
            "ok": "is OK again",
            "up": "is UP again",
            "degraded": "is DEGRADED",
            "cert_expiring": "certificate expires soon",
            "overdue": "backup is OVERDUE",
            "firing": "is FIRING",
            "resolved": "is RESOLVED",
        }
        text = f"[upstat] {self.service_name} {words.get(self.transition, self.transition)}"
        return text.encode("ascii", "replace").decode()[:100]


def alerts_of(recorded: Sequence[Recorded]) -> list[Alert]:
    """The alerts of the transitions these results recorded (not of duplicates: they have none)."""
    out = []
    for rec in recorded:
        for t in rec.transitions:
            out.append(
                Alert(
                    rec.service.id,
                    rec.service.name,
                    rec.service.url,
                    t.kind,
                    t.previous,
                    t.current,
                    t.at_ms,
                    t.seq,
                    t.error_kind,
                    t.error,
                    t.cert_days,
                    tuple(rec.service.webhooks),
                    channels=tuple(rec.service.channels),
                )
            )
    return out


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now_s: float | None = None) -> bool:
    """What a receiver does: a fresh timestamp (5 minutes) and a matching signature."""
    now = time.time() if now_s is None else now_s
    try:
        fresh = abs(now - int(timestamp)) <= 300
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def global_webhooks(settings: Settings) -> list[str]:
    return [u.strip() for u in settings.alert_webhooks.split(",") if u.strip()]


def send_alerts(
    client: Any,
    alerts: Sequence[Alert],
    *,
    deadline: float | None = None,
    settings: Settings | None = None,
    ssl_context: Any = None,
) -> list[dict[str, Any]]:
    """Claim and deliver each alert; returns the outcomes of those this call sent (claimed elsewhere: none).

    ``deadline`` is a ``time.monotonic()`` value bounding the webhook retries. Synchronous (runs its own
    event loop for the webhooks): call it from a thread, not from inside a running event loop.
    """
    if not alerts:
        return []
    settings = settings or get_settings()
    keys = UptimeKeys(settings.key_prefix)
    mine = [
        a
        for a in alerts
        if client.set(keys.alert_claim(a.service_id, a.claim_id), "sending", nx=True, ex=CLAIM_TTL_S)
    ]
    if not mine:
        return []
    deadline = deadline if deadline is not None else time.monotonic() + 20.0
    from upstat.notify import flap

    return _deliver(client, flap.track(client, mine, settings), settings, deadline, ssl_context)


def settle_flapping(
    client: Any, *, now_ms: int, deadline: float, settings: Settings | None = None, ssl_context: Any = None
) -> list[dict[str, Any]]:
    """Send the "settled" summary of each subject that stopped flapping (upstat.notify.flap); their
    outcomes. Run every minute by the ping job; two runs at once send each summary once."""
    settings = settings or get_settings()
    from upstat.notify import flap

    decisions = flap.settle_due(client, now_ms=now_ms, settings=settings)
    return _deliver(client, decisions, settings, deadline, ssl_context) if decisions else []


HELD = "flapping: recorded, not sent (a summary follows once it settles)"


def _deliver(
    client: Any, decisions: Sequence[Any], settings: Settings, deadline: float, ssl_context: Any
) -> list[dict[str, Any]]:
    """Deliver the alerts of ``decisions`` (upstat.notify.flap.Decision: send, or hold) to the SNS topic,
    the webhooks and the channels, and store the outcomes; returns them."""
    from upstat.notify.delivery import deliver

    outcomes: list[dict[str, Any]] = []
    for d in decisions:
        outcome: dict[str, Any] = {"alert": d.alert.payload(), "sns": None, "webhooks": [], "channels": []}
        if d.action == "send":
            outcome["sns"] = _publish_sns(d.alert, settings)
        else:
            outcome["held"] = HELD
        outcomes.append(outcome)
    sending = [d.alert for d in decisions]
    hooks = global_webhooks(settings)
    targets = [
        (i, url)
        for i, d in enumerate(decisions)
        if d.action == "send"
        for url in dict.fromkeys([*hooks, *d.alert.webhooks])
    ]
    if targets:
        policy = AddressPolicy.from_text(settings.allowed_targets)
        secret = webhook_secret(settings)
        results = asyncio.run(_post_all(sending, targets, secret, policy, deadline, ssl_context))
        for (i, _), result in zip(targets, results, strict=True):
            outcomes[i]["webhooks"].append(result)
    delivered = deliver(client, decisions, settings=settings, deadline=deadline, ssl_context=ssl_context)
    for outcome, channels in zip(outcomes, delivered, strict=True):
        outcome["channels"] = channels
    _store_outcomes(client, keys_of(settings), sending, outcomes, settings)
    _count(outcomes)
    return outcomes


def keys_of(settings: Settings) -> UptimeKeys:
    return UptimeKeys(settings.key_prefix)


def webhook_secret(settings: Settings) -> str | None:
    """The key signing webhooks: the setting's, else the SSM parameter's (cached), else None (unsigned).

    A parameter that does not exist means signing is off. One that cannot be read is logged and the alerts
    go out unsigned: a receiver that checks signatures refuses them as it would refuse no alert at all,
    and one that does not still gets them."""
    if settings.webhook_secret:
        return settings.webhook_secret
    name = settings.webhook_secret_ssm_parameter
    if not name:
        return None
    from upstat.aws import get_ssm_parameter

    try:
        return get_ssm_parameter(name) or None
    except Exception as exc:  # botocore raises many types; an alert must go out regardless
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code != "ParameterNotFound":
            log.warning("webhook secret %s not read (%s): webhooks go out unsigned", name, type(exc).__name__)
        return None


def _count(outcomes: Sequence[dict[str, Any]]) -> None:
    """AlertsSent / AlertsFailed: one per delivery (an SNS publish, a webhook POST, a channel's message)."""
    from upstat import metrics

    deliveries = [o["sns"] for o in outcomes if o["sns"] is not None]
    deliveries += [hook for o in outcomes for hook in o["webhooks"]]
    deliveries += [sent for o in outcomes for sent in o.get("channels", [])]
    sent = sum(bool(d.get("ok")) for d in deliveries)
    metrics.emit({"AlertsSent": sent, "AlertsFailed": len(deliveries) - sent})
    log.info(
        "%d alerts: %d of %d deliveries failed",
        len(outcomes),
        len(deliveries) - sent,
        len(deliveries),
        extra={"alerts": len(outcomes), "deliveries": len(deliveries), "failed": len(deliveries) - sent},
    )


def _publish_sns(alert: Alert, settings: Settings) -> dict[str, Any] | None:
    if not settings.alerts_topic_arn:
        return None
    from upstat.aws import client as aws_client

    try:
        reply = aws_client("sns").publish(
            TopicArn=settings.alerts_topic_arn,
            Subject=alert.subject(),
            Message=json.dumps(alert.payload()),
            MessageAttributes={
                "transition": {"DataType": "String", "StringValue": alert.transition},
                "service": {"DataType": "String", "StringValue": alert.service_id},
            },
        )
        return {"ok": True, "messageId": reply.get("MessageId")}
    except Exception as exc:  # any transport failure is an outcome, never a failed run
        log.warning("SNS publish failed for %s/%s: %s", alert.service_id, alert.seq, exc)
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


async def _post_all(
    alerts: Sequence[Alert],
    targets: Sequence[tuple[int, str]],
    secret: str | None,
    policy: AddressPolicy,
    deadline: float,
    ssl_context: Any,
) -> list[dict[str, Any]]:
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit=50)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        return list(
            await asyncio.gather(
                *(
                    _post(session, url, alerts[i].payload(), secret, policy, deadline, ssl_context)
                    for i, url in targets
                )
            )
        )


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    payload: dict[str, Any],
    secret: str | None,
    policy: AddressPolicy,
    deadline: float,
    ssl_context: Any,
) -> dict[str, Any]:
    try:
        check_url(url, policy)
    except TargetRefused as exc:
        return {"url": url, "ok": False, "attempts": 0, "error": exc.message}
    body = json.dumps(payload, separators=(",", ":")).encode()
    error: str | None = "no attempt made before the deadline"
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        left = deadline - time.monotonic()
        if left <= 0.1:
            return {"url": url, "ok": False, "attempts": attempt - 1, "error": error}
        status, error, retry = await _post_once(
            session, url, body, secret, min(WEBHOOK_TIMEOUT_S, left), ssl_context
        )
        if status is not None and 200 <= status < 300:
            return {"url": url, "ok": True, "attempts": attempt, "status": status}
        if not retry or attempt == WEBHOOK_ATTEMPTS:
            return {"url": url, "ok": False, "attempts": attempt, "status": status, "error": error}
        pause = BACKOFF_BASE_S * 2 ** (attempt - 1)
        if time.monotonic() + pause >= deadline:
            return {"url": url, "ok": False, "attempts": attempt, "status": status, "error": error}
        await asyncio.sleep(pause)
    return {"url": url, "ok": False, "attempts": WEBHOOK_ATTEMPTS, "error": error}


async def _post_once(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    secret: str | None,
    timeout: float,
    ssl_context: Any,
) -> tuple[int | None, str | None, bool]:
    """(status or None, error text, whether to retry)."""
    headers = {"Content-Type": "application/json", "User-Agent": "upstat-alerts/1.0"}
    if secret:
        stamp = str(int(time.time()))
        headers["X-Upstat-Timestamp"] = stamp
        headers["X-Upstat-Signature"] = sign(secret, stamp, body)
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
            ssl=ssl_context if ssl_context is not None else True,
        ) as resp:
            status = resp.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300], True
    if 200 <= status < 300:
        return status, None, False
    return status, f"HTTP {status}", status >= 500 or status in _RETRY_STATUS


def _store_outcomes(
    client: Any,
    keys: UptimeKeys,
    alerts: Sequence[Alert],
    outcomes: Sequence[dict[str, Any]],
    settings: Settings,
) -> None:
    from upstat.notify.keyspace import NotifyKeys

    log_key = NotifyKeys(settings.key_prefix).deliveries()
    pipe = client.pipeline(transaction=False)
    for alert, outcome in zip(alerts, outcomes, strict=True):
        text = json.dumps(outcome, separators=(",", ":"))
        pipe.set(keys.alert_claim(alert.service_id, alert.claim_id), text, xx=True, keepttl=True)
        pipe.lpush(keys.alerts(alert.service_id), text)
        pipe.ltrim(keys.alerts(alert.service_id), 0, OUTCOMES_KEPT - 1)
        pipe.lpush(log_key, text)
    pipe.ltrim(log_key, 0, DELIVERIES_KEPT - 1)
    pipe.execute()


def recent_outcomes(client: Any, service_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest alert outcomes of a service, newest first."""
    keys = keyspace(UptimeKeys)
    return [json.loads(x) for x in client.lrange(keys.alerts(service_id), 0, max(0, limit - 1))]


def deliveries(client: Any, *, subject_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest alerts with their outcomes (of one subject, or of all), newest first, as any reader may
    see them: webhook URLs masked (their paths carry the receivers' tokens), the target's secret-looking
    query values masked as services show them (channel outcomes never hold a secret)."""
    from upstat.notify.keyspace import NotifyKeys
    from upstat.uptime.models import mask_url, mask_webhook

    if subject_id is not None:
        key = keyspace(UptimeKeys).alerts(subject_id)
    else:
        key = keyspace(NotifyKeys).deliveries()
    out = []
    for raw in client.lrange(key, 0, max(0, limit - 1)):
        outcome = json.loads(raw)
        for hook in outcome.get("webhooks", []):
            hook["url"] = mask_webhook(hook.get("url", ""))
        subject = outcome.get("alert", {}).get("service", {})
        if subject.get("url"):
            subject["url"] = mask_url(subject["url"])
        out.append(outcome)
    return out


def post_signed(
    targets: Sequence[tuple[str, dict[str, Any]]],
    *,
    settings: Settings,
    deadline: float,
    ssl_context: Any = None,
) -> list[dict[str, Any]]:
    """POST each (url, payload) as alert webhooks are: signed with the webhook secret, retried with backoff,
    through the SSRF guard; one outcome each, in order. For other events than alerts (status-page
    subscribers). Synchronous, like :func:`send_alerts`."""
    if not targets:
        return []
    policy = AddressPolicy.from_text(settings.allowed_targets)
    secret = webhook_secret(settings)

    async def run() -> list[dict[str, Any]]:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit=50)
        async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
            posts = (_post(session, u, p, secret, policy, deadline, ssl_context) for u, p in targets)
            return list(await asyncio.gather(*posts))

    return asyncio.run(run())
