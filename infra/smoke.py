"""Smoke test of a deployed stack, run after every deploy (infra/deploy.sh, .github/workflows/deploy.yml).

    python3 infra/smoke.py https://abc123.execute-api.eu-west-1.amazonaws.com [--wait 90] [--allow-no-token]

1. ``GET /healthz`` answers 200 with ``status: ok`` (the API runs and reaches Redis), retried for ``--wait``
   seconds while a fresh deploy warms up;
2. one authenticated read, ``GET /v1/series`` with the bearer token in ``UPSTAT_SMOKE_TOKEN`` (a read-scope
   key of this stage, README "Deployment"), answers 200.

Exit status 0 when both pass; 1 when a check fails; 2 when no token is set (unless ``--allow-no-token``, for
a first deploy made before any key exists). Standard library only: it runs before any environment exists.
The token is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

TOKEN_ENV = "UPSTAT_SMOKE_TOKEN"


def fetch(url: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, Any]:
    """(status, JSON body or None); a connection failure is status 0."""
    headers = {"Accept": "application/json", "User-Agent": "upstat-smoke/1.0"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the URL is the operator's)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def check_health(base: str, wait_s: float) -> str | None:
    """None when /healthz answers ok within ``wait_s``; else what went wrong."""
    deadline = time.monotonic() + wait_s
    while True:
        status, body = fetch(f"{base}/healthz")
        if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
            ping = (body.get("jobs") or {}).get("ping") or {}
            ran = "ran" if ping.get("ran_in_last_period") else "has not run yet"
            print(f"ok: /healthz (version {body.get('version')}; the ping job {ran} in its last period)")
            return None
        if time.monotonic() >= deadline:
            return f"/healthz answered {status or 'nothing (no connection)'}: {body}"
        time.sleep(3)


def check_read(base: str, token: str) -> str | None:
    """None when an authenticated read answers 200; else what went wrong."""
    status, body = fetch(f"{base}/v1/series", token)
    if status == 200:
        print("ok: GET /v1/series with the smoke token")
        return None
    if status in (401, 403):
        return f"the smoke token was refused ({status}): is {TOKEN_ENV} a read key of this stage?"
    return f"GET /v1/series answered {status or 'nothing (no connection)'}: {body}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="smoke test of a deployed upstat stack")
    parser.add_argument("url", help="the API's base URL (the stack's HttpApiUrl output)")
    parser.add_argument("--wait", type=float, default=90.0, help="seconds to wait for /healthz (90)")
    parser.add_argument(
        "--allow-no-token", action="store_true", help=f"skip the authenticated read when {TOKEN_ENV} is unset"
    )
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    problem = check_health(base, args.wait)
    if problem:
        print(f"smoke test failed: {problem}", file=sys.stderr)
        return 1
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        message = (
            f"{TOKEN_ENV} is not set: create a read key (README 'Deployment') to check an authenticated read"
        )
        if args.allow_no_token:
            print(f"warning: {message}; skipped", file=sys.stderr)
            return 0
        print(f"smoke test failed: {message}", file=sys.stderr)
        return 2
    problem = check_read(base, token)
    if problem:
        print(f"smoke test failed: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
