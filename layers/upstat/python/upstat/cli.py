"""The ``upstat`` command (installed with the project): manage API keys straight in Redis.

    upstat keys create --scope admin [--scope write] [--name N] [--source S] [--organization O]
                       [--expires-days D]
    upstat keys list [--json]
    upstat keys show KEY_ID
    upstat keys revoke KEY_ID

It reads the same settings as the API (REDIS_URL, UPSTAT_KEY_PREFIX, ...) and calls the same library
functions as the /v1/keys routes; without REDIS_URL it uses the embedded Valkey of a `make run` running in
the current directory (recorded in .local-data/redis-url). ``create`` prints the token alone on stdout,
once; everything else it says goes to stderr, so ``TOKEN=$(upstat keys create --scope write)`` works.
Arguments are checked before anything connects.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import upstat
from upstat import clock
from upstat.auth import SCOPES
from upstat.auth import keys as api_keys
from upstat.config import get_settings
from upstat.errors import UpstatError
from upstat.sources.store import require_organization

DAY_MS = 86_400_000


EPILOG = """\
where Redis is:
  REDIS_URL                        redis:// or rediss:// URL of the Redis upstat uses, or
  UPSTAT_REDIS_URL_SSM_PARAMETER   name of the SSM parameter holding it, as the deployed stack has it
                                   (e.g. /upstat/prod/redis-url; read with your AWS credentials)
  UPSTAT_REDIS_CLUSTER=true        for a Redis Cluster (ElastiCache Serverless is one)
  UPSTAT_KEY_PREFIX                if the stack sets one (default upstat:)

When Redis is reachable only inside a VPC (the stack's ElastiCache cache), this command cannot reach it
from outside: manage keys through the API instead, with the bootstrap admin token (the SSM SecureString
<ssmPrefix>/admin-token) as the bearer token:
  curl -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \\
       -d '{"name": "ops", "scopes": ["admin"]}' https://<api>/v1/keys     # create (token shown once)
  curl -H "Authorization: Bearer $ADMIN_TOKEN" https://<api>/v1/keys       # list
  curl -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" https://<api>/v1/keys/<key id>   # revoke
"""


def _scope_list(value: str) -> list[str]:
    """One ``--scope`` value ("read" or "read,write"), checked when the arguments are parsed."""
    out = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in out if s not in SCOPES]
    if unknown or not out:
        raise argparse.ArgumentTypeError(
            f"unknown scope {(unknown or [value])[0]!r} (choose from {', '.join(SCOPES)})"
        )
    return out


def _scopes(values: list[list[str]]) -> list[str]:
    return [scope for group in values for scope in group]


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"at least 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upstat",
        description="upstat administration: API keys, straight in upstat's Redis",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"upstat {upstat.__version__}")
    areas = parser.add_subparsers(dest="area", required=True)
    keys_area = areas.add_parser(
        "keys", help="API keys", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    keys = keys_area.add_subparsers(dest="action", required=True)

    create = keys.add_parser("create", help="create a key and print its token (shown only once)")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        type=_scope_list,
        help="read, write or admin (repeat or a,b)",
    )
    create.add_argument("--name", default="created with the upstat CLI", help="what the key is for")
    create.add_argument("--source", help="make it a source key: it may write only this source")
    create.add_argument("--organization", help="bind it to this organization (slug): only its sources")
    create.add_argument("--expires-days", type=_positive, help="expire after this many days (1 or more)")

    listing = keys.add_parser("list", help="list keys (never their tokens)")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")

    show = keys.add_parser("show", help="show one key")
    show.add_argument("key_id")

    revoke = keys.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id")
    return parser


def _when(ms: int | None) -> str | None:
    at = api_keys.time_of(ms)
    return None if at is None else at.isoformat(timespec="seconds")


def _view(record: api_keys.KeyRecord) -> dict[str, Any]:
    return {
        "key_id": record.key_id,
        "name": record.name,
        "scopes": sorted(record.scopes),
        "source": record.source,
        "organization": record.organization,
        "status": record.state(clock.now_ms()),
        "created_at": _when(record.created_at),
        "expires_at": _when(record.expires_at),
        "revoked_at": _when(record.revoked_at),
        "last_used": _when(record.last_used),
        "created_by": record.created_by,
    }


def _create(args: argparse.Namespace, client: Any) -> int:
    now = clock.now_ms()
    if args.organization is not None:
        require_organization(client, args.organization)
    record, token = api_keys.create_key(
        client,
        get_settings(),
        name=args.name,
        scopes=_scopes(args.scope),
        source=args.source,
        organization=args.organization,
        expires_at=now + args.expires_days * DAY_MS if args.expires_days else None,
        created_by="cli",
        now=now,
    )
    print(token)
    scopes = ",".join(sorted(record.scopes))
    print(f"created key {record.key_id} ({scopes}); the token above is shown only now", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, client: Any) -> int:
    found = [_view(r) for r in api_keys.list_keys(client, get_settings())]
    if args.json:
        print(json.dumps({"count": len(found), "keys": found}, indent=2))
        return 0
    print(f"{'KEY ID':<14}{'STATUS':<9}{'SCOPES':<18}{'LIMITED TO':<24}{'CREATED':<27}NAME")
    for k in found:
        scopes, bound = ",".join(k["scopes"]), _bound_to(k)
        print(f"{k['key_id']:<14}{k['status']:<9}{scopes:<18}{bound:<24}{k['created_at']:<27}{k['name']}")
    return 0


def _bound_to(key: dict[str, Any]) -> str:
    """What a key is limited to: one source, one organization's sources, or nothing ("-")."""
    if key["source"]:
        return f"source {key['source']}"
    if key["organization"]:
        return f"organization {key['organization']}"
    return "-"


def _show(args: argparse.Namespace, client: Any) -> int:
    record = api_keys.get_key(client, get_settings(), args.key_id)
    if record is None:
        print(f"error: no key '{args.key_id}'", file=sys.stderr)
        return 1
    print(json.dumps(_view(record), indent=2))
    return 0


def _revoke(args: argparse.Namespace, client: Any) -> int:
    settings = get_settings()
    record = api_keys.revoke_key(client, settings, args.key_id)
    print(
        f"revoked key {record.key_id}; running API processes refuse it within "
        f"{settings.key_cache_seconds:g} s (UPSTAT_KEY_CACHE_SECONDS)",
        file=sys.stderr,
    )
    return 0


def _redis() -> Any:
    """The client of REDIS_URL (or its SSM parameter); when neither is set, of the embedded Valkey that a
    `make run` in this directory recorded in .local-data/redis-url."""
    from redis.exceptions import RedisError

    from upstat.store.client import get_redis, make_client

    settings = get_settings()
    if settings.redis_url or settings.redis_url_ssm_parameter:
        return get_redis()
    from upstat.local import REDIS_URL_FILE, recorded_redis_url

    where = REDIS_URL_FILE.resolve()
    url = recorded_redis_url()
    if url is None:
        raise RuntimeError(
            f"REDIS_URL is not set and no `make run` is running here ({where} does not exist): start "
            "`make run` in this directory, or set REDIS_URL"
        )
    client = make_client(settings, url)
    try:
        client.ping()
    except RedisError as exc:
        raise RuntimeError(
            f"REDIS_URL is not set and the embedded Valkey that `make run` recorded in {where} ({url}) does "
            "not answer: is `make run` still running? Start it again, or set REDIS_URL"
        ) from exc
    return client


ACTIONS = {"create": _create, "list": _list, "show": _show, "revoke": _revoke}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    from redis.exceptions import RedisError

    try:
        return ACTIONS[args.action](args, _redis())
    except BrokenPipeError:  # `upstat keys list | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UpstatError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
    except RedisError as exc:
        print(f"error: Redis: {exc}", file=sys.stderr)
    except RuntimeError as exc:  # no Redis to talk to: the message says what to start or set
        print(f"error: {exc}", file=sys.stderr)
    return 1
