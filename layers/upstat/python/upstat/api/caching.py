"""Answers a cache may keep and revalidate: an ETag (a hash of the body) with ``If-None-Match`` answered 304.

The public reads (the status page's data, badges, feeds) are fetched by many readers, CDNs and image
proxies at once; an unchanged body costs them a 304 and no transfer.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response


def etag_of(data: bytes) -> str:
    """A strong ETag of the body: its SHA-256, 32 hex characters, quoted."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of (possibly weak) tags, compared weakly."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def cacheable(request: Request, data: bytes, *, media_type: str, cache_control: str) -> Response:
    """The body with its ETag and Cache-Control, or a 304 with both when the request already holds it."""
    etag = etag_of(data)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)
