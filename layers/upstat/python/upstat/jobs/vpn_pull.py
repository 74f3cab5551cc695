"""The OpenVPN pull job's readers: an S3 object (boto3), an HTTPS URL through the SSRF guard (every address
the name resolves to checked, no redirects, no proxy from the environment, the body capped), and the
certificates under an S3 prefix. Failures become :class:`FetchFailed`, which the job reports, never raises.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

from upstat.config import Settings

TIMEOUT_S = 10.0


class FetchFailed(RuntimeError):
    """A location could not be read; the message says which and why (never a credential)."""


def _s3_parts(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise FetchFailed(f"{url}: no bucket")
    return bucket, key


def fetch(
    url: str, *, settings: Settings, ssl_context: ssl.SSLContext | None = None, lookup: Any = None
) -> bytes:
    """The body at ``url`` (``s3://bucket/key`` or ``https://...``), at most the API's body limit."""
    cap = settings.max_body_bytes
    if url.startswith("s3://"):
        return _s3_object(url, cap)
    if url.startswith("https://"):
        return asyncio.run(_https(url, settings, cap, ssl_context, lookup))
    raise FetchFailed(f"{url}: only s3:// and https:// locations are read")


def _s3_object(url: str, cap: int) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    from upstat.aws import client

    bucket, key = _s3_parts(url)
    try:
        answer = client("s3").get_object(Bucket=bucket, Key=key)
        body: bytes = answer["Body"].read(cap + 1)
    except (BotoCoreError, ClientError) as exc:
        raise FetchFailed(f"{url}: {exc}") from None
    if len(body) > cap:
        raise FetchFailed(f"{url}: larger than {cap} bytes")
    return body


async def _https(
    url: str, settings: Settings, cap: int, ssl_context: ssl.SSLContext | None, lookup: Any
) -> bytes:
    import aiohttp

    from upstat.uptime.probe import policy_from_settings
    from upstat.uptime.ssrf import GuardedResolver, TargetRefused, check_url

    policy = policy_from_settings(settings)
    try:
        target = check_url(url, policy, schemes=("https",))
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy, lookup), force_close=True)
        async with (
            aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
                cookie_jar=aiohttp.DummyCookieJar(),
            ) as session,
            session.get(target, allow_redirects=False, ssl=ssl_context or True) as response,
        ):
            if response.status != 200:
                raise FetchFailed(f"{url}: HTTP {response.status}")
            body = await response.content.read(cap + 1)
    except TargetRefused as exc:
        raise FetchFailed(f"{url}: {exc.message}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise FetchFailed(f"{url}: {type(exc).__name__}: {exc}") from None
    if len(body) > cap:
        raise FetchFailed(f"{url}: larger than {cap} bytes")
    return body


def s3_files(url: str, *, settings: Settings) -> Iterator[tuple[str, bytes]]:
    """(name, body) of every object under ``s3://bucket/prefix``; the name is the key after the prefix."""
    from botocore.exceptions import BotoCoreError, ClientError

    from upstat.aws import client

    bucket, prefix = _s3_parts(url)
    s3 = client("s3")
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :].lstrip("/") or item["Key"]
                yield name, _s3_object(f"s3://{bucket}/{item['Key']}", settings.max_body_bytes)
    except (BotoCoreError, ClientError) as exc:
        raise FetchFailed(f"{url}: {exc}") from None
